package cli

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/huin/goupnp"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// TestMain lets multi-host tests run the command line and third-party control
// points as processes inside network namespaces (internal/netlab).
func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{
		"upnp":        func(ctx context.Context, args []string) int { return Main(ctx, args, os.Stdout, os.Stdout) },
		"goupnp-call": roleGoupnpCall,

		"scale-devices":  roleScaleDevices,
		"scale-discover": roleScaleDiscover,
		"scale-registry": roleScaleRegistry,
		"gena-light":     roleGenaLight,
		"gena-probe":     roleGenaProbe,
	})
}

// roleGoupnpCall discovers devices of a type with goupnp's DiscoverDevicesCtx
// and performs actions on a service of the first one through goupnp's SOAP
// client. args: deviceType serviceType then ACTION[:ARG=VALUE] ... ; it prints
// "found LOCATION" and, per action, "ACTION ok OUT" or "ACTION error ERR".
func roleGoupnpCall(ctx context.Context, args []string) int {
	// goupnp waits MX (2 s) for answers that our responder spreads over MX;
	// on a loaded machine one can arrive late, so look up to three times.
	var devs []goupnp.MaybeRootDevice
	for attempt := 0; attempt < 3 && len(devs) == 0; attempt++ {
		var err error
		if devs, err = goupnp.DiscoverDevicesCtx(ctx, args[0]); err != nil {
			fmt.Println("error:", err)
			return 1
		}
	}
	for _, d := range devs {
		if d.Err != nil {
			fmt.Println("probe error:", d.Err)
			continue
		}
		fmt.Println("found", d.Location, d.Root.Device.FriendlyName)
		clients, err := goupnp.NewServiceClientsFromRootDevice(d.Root, d.Location, args[1])
		if err != nil || len(clients) == 0 {
			fmt.Println("no service client:", err)
			return 1
		}
		sc := clients[0]
		for _, a := range args[2:] {
			name, in := a, map[string]string{}
			if i := indexByte(a, ':'); i >= 0 {
				name = a[:i]
				for _, kv := range strings.Split(a[i+1:], ",") {
					k, v, _ := cut(kv, '=')
					in[k] = v
				}
			}
			out := map[string]string{}
			err := performAction(ctx, &sc, args[1], name, in, out)
			if err != nil {
				fmt.Println(name, "error", err)
				continue
			}
			fmt.Println(name, "ok", out)
		}
		return 0
	}
	fmt.Println("error: nothing found")
	return 1
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func cut(s string, c byte) (string, string, bool) {
	if i := indexByte(s, c); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// performAction calls goupnp's SOAP client with structs made at run time,
// since goupnp takes arguments only as struct fields.
func performAction(ctx context.Context, sc *goupnp.ServiceClient, svcType, action string, in map[string]string, out map[string]string) error {
	var inFields []reflect.StructField
	var vals []string
	i := 0
	for k, v := range in {
		inFields = append(inFields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: reflect.TypeOf(""), Tag: reflect.StructTag(`soap:"` + k + `"`)})
		vals = append(vals, v)
		i++
	}
	inV := reflect.New(reflect.StructOf(inFields))
	for j, v := range vals {
		inV.Elem().Field(j).SetString(v)
	}
	names := outNames[action]
	var outFields []reflect.StructField
	for j, n := range names {
		outFields = append(outFields, reflect.StructField{Name: fmt.Sprintf("F%d", j), Type: reflect.TypeOf(""), Tag: reflect.StructTag(`xml:"` + n + `"`)})
	}
	outV := reflect.New(reflect.StructOf(outFields))
	if err := sc.SOAPClient.PerformActionCtx(ctx, svcType, action, inV.Interface(), outV.Interface()); err != nil {
		return err
	}
	for j, n := range names {
		out[n] = outV.Elem().Field(j).String()
	}
	return nil
}

// outNames are the out arguments the interop tests read.
var outNames = map[string][]string{
	"GetStatus":            {"ResultStatus"},
	"GetTarget":            {"RetTargetValue"},
	"GetSystemUpdateID":    {"Id"},
	"GetVolume":            {"CurrentVolume"},
	"GetExternalIPAddress": {"NewExternalIPAddress"},
}
