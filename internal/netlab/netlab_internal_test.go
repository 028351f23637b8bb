package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestUnavailable(t *testing.T) {
	found := func() (string, error) { return "/usr/sbin/ip", nil }
	missing := func() (string, error) { return "", errors.New(`exec: "ip": executable file not found in $PATH`) }
	works := func() error { return nil }
	fails := func() error { return errors.New("mkdir /run/netns failed: Permission denied") }
	tests := []struct {
		name  string
		euid  int
		osErr error
		look  func() (string, error)
		try   func() error
		want  string // substring; "" means available
	}{
		{"available", 0, nil, found, works, ""},
		{"other OS", 0, errors.New("network namespaces are not supported on darwin"), found, works, "not supported on darwin"},
		{"not root", 65534, nil, found, works, "need root (euid is 65534)"},
		{"no ip", 0, nil, missing, works, "ip not found"},
		{"user namespace root", 0, nil, found, fails, "cannot create a network namespace: mkdir /run/netns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unavailable(tt.euid, tt.osErr, tt.look, tt.try)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("unavailable = %q, want %q", got, tt.want)
			}
		})
	}
}

// recorder is a testing.TB that records Skipf and Fatalf instead of
// stopping; other methods are not used by require.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }

func TestRequireDecision(t *testing.T) {
	tests := []struct {
		reason          string
		strict          bool
		skipped, failed bool
	}{
		{"", false, false, false},
		{"", true, false, false},
		{"network namespaces need root (euid is 1000)", false, true, false},
		{"network namespaces need root (euid is 1000)", true, false, true},
	}
	for _, tt := range tests {
		r := &recorder{}
		require(r, tt.reason, tt.strict)
		if (r.skipped != "") != tt.skipped || (r.fatal != "") != tt.failed {
			t.Errorf("require(%q, strict %v): skipped %q, fatal %q", tt.reason, tt.strict, r.skipped, r.fatal)
		}
		if msg := r.skipped + r.fatal; !strings.Contains(msg, tt.reason) || (tt.reason != "" && !strings.Contains(msg, RequireEnv)) {
			t.Errorf("require(%q, strict %v): message %q", tt.reason, tt.strict, msg)
		}
	}
}

func TestPlan(t *testing.T) {
	lan, err := plan(Config{Hosts: 3, NoIPv4: []int{2}, Subnet: netip.MustParsePrefix("192.168.7.99/16")}, 4242, 7)
	if err != nil {
		t.Fatal(err)
	}
	if lan.Name != "nl4242x7" || lan.Bridge != "nl4242x7-br" || lan.Subnet.String() != "192.168.0.0/16" {
		t.Errorf("Name %q, Bridge %q, Subnet %s", lan.Name, lan.Bridge, lan.Subnet)
	}
	if !ownName.MatchString(lan.Bridge) {
		t.Errorf("ownName does not match %s", lan.Bridge)
	}
	if lab := regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`); !lab.MatchString(lan.Name) {
		t.Errorf("Name %q is not a valid UPNPLAB_PREFIX", lan.Name)
	}
	if lan, _ := plan(Config{}, 4194304, 1<<31); len(lan.Name) > 16 {
		t.Errorf("Name %q is longer than lan.sh allows", lan.Name)
	}
	var got []string
	for _, h := range lan.Hosts {
		got = append(got, fmt.Sprint(h.Namespace, " ", h.Prefix, " ", h.IPv6LinkLocal, " ", h.ULA.IsValid()))
		if !ownName.MatchString(h.Namespace) {
			t.Errorf("ownName does not match %s", h.Namespace)
		}
	}
	want := []string{
		"nl4242x7-h1 192.168.0.11/16 fe80::77:ff:fe00:1%lan0 false",
		"nl4242x7-h2 invalid Prefix fe80::77:ff:fe00:2%lan0 false",
		"nl4242x7-h3 192.168.0.13/16 fe80::77:ff:fe00:3%lan0 false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("hosts:\n got %q\nwant %q", got, want)
	}
	lan, err = plan(Config{Hosts: 200}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h := lan.Host(200); h.IPv4.String() != "10.77.0.210" || h.MAC.String() != "02:77:00:00:00:c8" {
		t.Errorf("host 200: %s %s", h.IPv4, h.MAC)
	}

	for _, cfg := range []Config{
		{Hosts: -1}, {Hosts: 201}, {NoIPv4: []int{3}}, {NoIPv4: []int{0}},
		{Subnet: netip.MustParsePrefix("10.1.2.0/25")}, {Subnet: netip.MustParsePrefix("fd00::/64")},
	} {
		if _, err := plan(cfg, 1, 1); err == nil {
			t.Errorf("plan(%+v) succeeded", cfg)
		}
	}
}

func TestOwnName(t *testing.T) {
	for name, want := range map[string]bool{
		"nl123x1-br": true, "nl123xz9-h200": true, "nl9probe": true,
		"nl123x1-b": false, "upnplab-h1": false, "nlx1-br": false, "nl123x1-br2": false, "xnl123x1-br": false,
		"nl123-1-br": false, "nl123x-h1": false,
	} {
		if got := ownName.MatchString(name); got != want {
			t.Errorf("ownName(%q) = %v", name, got)
		}
	}
}

func TestOutput(t *testing.T) {
	var o output
	for _, s := range []string{"a\nb", "c\n", "\n", "d"} {
		o.Write([]byte(s))
	}
	lines, ended, _ := o.state()
	if want := []string{"a", "bc", ""}; !slices.Equal(lines, want) || ended {
		t.Errorf("lines %q ended %v, want %q", lines, ended, want)
	}
	o.end()
	if lines, ended, _ := o.state(); !slices.Equal(lines, []string{"a", "bc", "", "d"}) || !ended {
		t.Errorf("after end: lines %q ended %v", lines, ended)
	}

	var long output
	long.Write([]byte(strings.Repeat("x", maxLine+10) + "\n"))
	if lines, _, _ := long.state(); len(lines) != 2 || len(lines[0]) != maxLine || len(lines[1]) != 10 {
		t.Errorf("long line split into %d lines", len(lines))
	}

	var big output
	line := []byte(strings.Repeat("y", 1023) + "\n")
	for range maxOutput/len(line) + 10 {
		big.Write(line)
	}
	lines, _, _ = big.state()
	if last := lines[len(lines)-1]; !strings.Contains(last, "dropped") {
		t.Errorf("last line %q, want a note that output was dropped", last)
	}
}

func TestCrashed(t *testing.T) {
	for out, want := range map[string]bool{
		"ready\ngot x":                             false,
		"ready\npanic: boom\n\ngoroutine 1":        true,
		"==================\nWARNING: DATA RACE\n": true,
		"fatal error: concurrent map writes":       true,
		"no panic: here":                           false,
	} {
		if got := crashed(out); got != want {
			t.Errorf("crashed(%q) = %v", out, got)
		}
	}
}
