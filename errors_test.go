package upnp_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/seedb72249f9/upnp"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *upnp.Error
		want string
	}{
		{&upnp.Error{Code: upnp.CodeInvalidAction}, "upnp: error 401: Invalid Action"},
		{&upnp.Error{Code: 401, Description: "No such action"}, "upnp: error 401: No such action"},
		{&upnp.Error{Code: upnp.CodeArgumentValueOutOfRange}, "upnp: error 601: Argument Value Out of Range"},
		{&upnp.Error{Code: 718, Description: "ConflictInMappingEntry"}, "upnp: error 718: ConflictInMappingEntry"},
		{&upnp.Error{Code: 899}, "upnp: error 899"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("call: %w", &upnp.Error{Code: 606, Description: "Action not authorized"})
	if !errors.Is(err, &upnp.Error{Code: upnp.CodeActionNotAuthorized}) {
		t.Error("errors.Is(606, 606) = false")
	}
	if errors.Is(err, &upnp.Error{Code: upnp.CodeInvalidAction}) {
		t.Error("errors.Is(606, 401) = true")
	}
	var nilErr *upnp.Error
	if errors.Is(err, nilErr) {
		t.Error("errors.Is(606, (*Error)(nil)) = true")
	}
	var ue *upnp.Error
	if !errors.As(err, &ue) || ue.Code != 606 {
		t.Errorf("errors.As: %v", ue)
	}
}

func TestErrorDescription(t *testing.T) {
	want := map[int]string{
		401: "Invalid Action", 402: "Invalid Args", 501: "Action Failed",
		600: "Argument Value Invalid", 601: "Argument Value Out of Range",
		602: "Optional Action Not Implemented", 603: "Out of Memory",
		604: "Human Intervention Required", 605: "String Argument Too Long",
		606: "Action not authorized", 607: "Signature failure", 608: "Signature missing",
		609: "Not encrypted", 610: "Invalid sequence", 611: "Invalid control URL",
		612: "No such session", 403: "", 700: "", 0: "",
	}
	for code, d := range want {
		if got := upnp.ErrorDescription(code); got != d {
			t.Errorf("ErrorDescription(%d) = %q, want %q", code, got, d)
		}
	}
}
