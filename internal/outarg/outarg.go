// Package outarg reads the out arguments that controlpoint.Client.Invoke
// returns, for the packages built on it (igd, av): decoded to Go types when
// the service's SCPD gives their data types, strings when it does not.
package outarg

import (
	"fmt"
	"strings"
)

// Text returns an out argument as its wire text: a string trimmed of
// surrounding white space, a bool as 1 or 0, anything else as fmt prints it,
// and a missing (nil) argument as "".
func Text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case bool:
		if v {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}
