package controlpoint_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

// TestSCPDShared: two of our own lights write different configIds into
// otherwise identical SCPDs; the control point parses each service once and
// gives every device its own configId.
func TestSCPDShared(t *testing.T) {
	var devs []*controlpoint.Device
	for _, udn := range []string{"uuid:0f0f0f0f-1111-4222-8333-000000000001", "uuid:0f0f0f0f-1111-4222-8333-000000000002"} {
		s := &device.Server{Device: binarylight.New("Light "+udn[len(udn)-1:], udn)}
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		d, err := (&controlpoint.Client{}).Describe(context.Background(), ts.URL+"/desc.xml")
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, d)
	}
	a, b := devs[0], devs[1]
	if a.Root.ConfigID == b.Root.ConfigID {
		t.Fatalf("both lights have configId %d; the test needs two", a.Root.ConfigID)
	}
	for i, sa := range a.Services {
		sb := b.Services[i]
		if sa.SCPD == nil || sb.SCPD == nil {
			t.Fatalf("%s: no SCPD: %v, %v", sa.Type, sa.Err, sb.Err)
		}
		if &sa.SCPD.Actions[0] != &sb.SCPD.Actions[0] {
			t.Errorf("%s: each device has its own parse of the same SCPD", sa.Type)
		}
		if sa.SCPD.ConfigID != a.Root.ConfigID || sb.SCPD.ConfigID != b.Root.ConfigID {
			t.Errorf("%s: SCPD configIds %d and %d, want the devices' %d and %d",
				sa.Type, sa.SCPD.ConfigID, sb.SCPD.ConfigID, a.Root.ConfigID, b.Root.ConfigID)
		}
	}
}
