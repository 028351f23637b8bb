package cli

// The LAN of 200 devices (docs/reliability.md, "A LAN of 200 devices" and
// "The CLI under stress"): five hosts each run one process serving 40
// example lights (device.Server, distinct UDNs and ports), and a sixth host
// runs the control points: a Registry fed first by its search and then by
// ssdp:alive, controlpoint Discover with ssdp:all and upnp:rootdevice, and
// the upnp binary's scan in table and --json form. The figures are logged:
//
//	go test -count=1 -run 'TestScale200Devices' -v ./internal/cli
//
// With the race detector, or -short, each host serves 10 devices instead
// of 40 (50 in all): 200 race-instrumented servers starve a busy 2-core
// machine. The assertions are the same. UPNP_SCALE_HEAPPROFILE=DIR writes
// heap profiles of the registry process into DIR (see roleScaleRegistry).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

const scaleHosts = 5 // device hosts h1..h5; the control point is h6

// scalePerHost returns how many devices each host's one process serves.
func scalePerHost() int {
	if netlab.RaceEnabled || testing.Short() {
		return 10
	}
	return 40
}

// scaleUDN is the UDN of device i (from 0) of host h (from 1).
func scaleUDN(h, i int) string {
	return fmt.Sprintf("uuid:5ca1e000-0000-4000-8000-%04d%08d", h, i)
}

// scaleName is its friendly name.
func scaleName(h, i int) string { return fmt.Sprintf("Light %d-%02d", h, i) }

// roleScaleDevices serves many example lights from one process. args: COUNT
// HOST. Each is a device.Server of its own (HTTP port, SSDP advertiser) on
// lan0 over IPv4. It prints "ready COUNT" once every one listens, and
// "stopped" after each has said byebye when the process is stopped.
func roleScaleDevices(ctx context.Context, args []string) int {
	n, _ := strconv.Atoi(args[0])
	h, _ := strconv.Atoi(args[1])
	servers := make([]*device.Server, n)
	errc := make(chan error, n)
	for i := range servers {
		s := &device.Server{Device: binarylight.New(scaleName(h, i), scaleUDN(h, i)), Interfaces: []string{"lan0"}, Network: "4"}
		servers[i] = s
		go func() { errc <- s.ListenAndServe(ctx) }()
	}
	for _, s := range servers {
		for len(s.Addrs()) == 0 {
			select {
			case err := <-errc:
				fmt.Println("error:", err)
				return 1
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	fmt.Println("ready", n)
	code := 0
	for range servers {
		if err := <-errc; err != nil {
			fmt.Println("error:", err)
			code = 1
		}
	}
	fmt.Println("stopped")
	return code
}

// scaleLine is one JSON line printed by the control point roles.
type scaleLine struct {
	Kind     string `json:"kind"` // device, error, end, registry
	UDN      string `json:"udn,omitempty"`
	Name     string `json:"name,omitempty"`
	Location string `json:"location,omitempty"`
	// Complete says that the device is fully described: two services,
	// each with its SCPD, actions and URLs, and no error.
	Complete    bool    `json:"complete,omitempty"`
	Problem     string  `json:"problem,omitempty"`
	FoundMS     float64 `json:"found_ms,omitempty"`
	DescribedMS float64 `json:"described_ms,omitempty"`
	Err         string  `json:"err,omitempty"`
	EndMS       float64 `json:"end_ms,omitempty"`

	// registry lines: a measurement with Devices described devices.
	Devices    int      `json:"devices,omitempty"`
	UDNs       []string `json:"udns,omitempty"`
	Incomplete []string `json:"incomplete,omitempty"`
	Dropped    uint64   `json:"dropped,omitempty"`
	SCPDs      int      `json:"scpds,omitempty"`      // distinct *upnp.SCPD values held
	HeapEmpty  uint64   `json:"heap_empty,omitempty"` // HeapAlloc after GC before the registry existed
	Heap       uint64   `json:"heap,omitempty"`       // HeapAlloc after GC now
	FillMS     float64  `json:"fill_ms,omitempty"`    // from Run (or the previous line) to Devices described
}

func printScale(l scaleLine) {
	b, _ := json.Marshal(l)
	fmt.Println(string(b))
}

func msSince(t0, t time.Time) float64 { return float64(t.Sub(t0).Microseconds()) / 1000 }

// describedFully checks that d is one of the lights, fully described.
func describedFully(d *controlpoint.Device) string {
	if d.Root == nil {
		return "no description"
	}
	if len(d.Services) != 2 {
		return fmt.Sprintf("%d services", len(d.Services))
	}
	for _, s := range d.Services {
		switch {
		case s.Err != nil:
			return fmt.Sprintf("%s: %v", s.Type, s.Err)
		case s.SCPD == nil || len(s.SCPD.Actions) == 0 || len(s.SCPD.StateVariables) == 0:
			return s.Type + ": no SCPD"
		case s.ControlURL == "" || s.EventSubURL == "" || s.SCPDURL == "":
			return s.Type + ": URL missing"
		}
	}
	if d.Root.Device.FriendlyName == "" || d.Root.Device.DeviceType != "urn:schemas-upnp-org:device:BinaryLight:1" {
		return "wrong device: " + d.Root.Device.DeviceType
	}
	return ""
}

// roleScaleDiscover runs controlpoint Discover once on lan0 over IPv4.
// args: ST MX. It prints a device or error line as each is yielded, then an
// end line.
func roleScaleDiscover(ctx context.Context, args []string) int {
	mx, _ := strconv.Atoi(args[1])
	c := &controlpoint.Client{Interfaces: []string{"lan0"}, Network: "udp4"}
	t0 := time.Now()
	for d, err := range c.Discover(ctx, ssdp.SearchRequest{Target: args[0], MX: mx}) {
		if err != nil {
			printScale(scaleLine{Kind: "error", Err: err.Error(), DescribedMS: msSince(t0, time.Now())})
			continue
		}
		p := describedFully(d)
		printScale(scaleLine{Kind: "device", UDN: d.Root.Device.UDN, Name: d.Root.Device.FriendlyName, Location: d.Location,
			Complete: p == "", Problem: p, FoundMS: msSince(t0, d.Found), DescribedMS: msSince(t0, d.Described)})
	}
	printScale(scaleLine{Kind: "end", EndMS: msSince(t0, time.Now())})
	return 0
}

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// roleScaleRegistry runs a controlpoint.Registry on lan0 over IPv4 and
// measures it. args: N... For each N in turn it waits until the registry
// holds N distinct described devices, lets a second pass for answers still
// on their way, and prints a registry line with the live heap; after the
// last N it stops the registry and prints "stopped". With
// UPNP_SCALE_HEAPPROFILE=DIR it also writes a heap profile there at each
// measurement, registry-N.heap, for go tool pprof.
func roleScaleRegistry(ctx context.Context, args []string) int {
	if os.Getenv("UPNP_SCALE_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 4096
	}
	printScale(scaleLine{Kind: "start"}) // json's caches are not the registry's
	empty := heapAfterGC()
	r := &controlpoint.Registry{Client: &controlpoint.Client{Interfaces: []string{"lan0"}, Network: "udp4"}}
	events, stop := r.Subscribe(1024)
	defer stop()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	t0 := time.Now()
	go func() { errc <- r.Run(rctx) }()
	seen := map[string]bool{}
	for _, a := range args {
		want, _ := strconv.Atoi(a)
		for len(seen) < want {
			select {
			case ev := <-events:
				if ev.Type == controlpoint.DeviceAdded {
					seen[ev.Device.Root.Device.UDN] = true
				}
			case err := <-errc:
				fmt.Println("error: registry ended:", err)
				return 1
			case <-ctx.Done():
				fmt.Println("error: stopped with", len(seen), "devices")
				return 1
			}
		}
		fill := msSince(t0, time.Now())
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return 1
		}
		l := scaleLine{Kind: "registry", HeapEmpty: empty, FillMS: fill}
		scpds := map[*upnp.SCPD]bool{}
		for _, d := range r.Devices() {
			for _, s := range d.Services {
				scpds[s.SCPD] = true
			}
			l.Devices++
			l.UDNs = append(l.UDNs, d.Root.Device.UDN)
			if p := describedFully(d); p != "" {
				l.Incomplete = append(l.Incomplete, d.Root.Device.UDN+": "+p)
			}
		}
		l.Dropped = r.Dropped()
		l.SCPDs = len(scpds)
		l.Heap = heapAfterGC()
		if dir := os.Getenv("UPNP_SCALE_HEAPPROFILE"); dir != "" {
			if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("registry-%d.heap", l.Devices))); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		runtime.KeepAlive(r)
		printScale(l)
		t0 = time.Now()
	}
	cancel()
	if err := <-errc; err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("stopped")
	return 0
}

// buildUPNP builds the upnp command into a temporary directory, with the
// race detector when the tests have it, and returns the binary's path.
func buildUPNP(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command to build upnp: %v", err)
		}
	}
	bin := filepath.Join(t.TempDir(), "upnp")
	args := []string{"build", "-o", bin}
	if netlab.RaceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, "github.com/seedb72249f9/upnp/cmd/upnp")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build upnp: %v\n%s", err, out)
	}
	return bin
}

// timedLine is a line of output and when it arrived since the start.
type timedLine struct {
	text string
	at   time.Duration
}

// cmdResult is what runCLI saw.
type cmdResult struct {
	stdout []timedLine
	stderr string
	code   int
	total  time.Duration
}

// runCLI runs the upnp binary in h with stdout and stderr apart, records
// when each stdout line arrives, and waits at most limit for its end.
// With interruptAfter > 0 it sends SIGINT once that many stdout lines have
// arrived, as Ctrl-C would.
func runCLI(t *testing.T, h *netlab.Host, bin string, limit time.Duration, interruptAfter int, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := h.Command(ctx, bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var res cmdResult
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		res.stdout = append(res.stdout, timedLine{sc.Text(), time.Since(start)})
		if interruptAfter > 0 && len(res.stdout) == interruptAfter {
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	res.total = time.Since(start)
	res.stderr = stderr.String()
	res.code = cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		t.Errorf("upnp %s did not end within %v (killed): %v\nstderr:\n%s", strings.Join(args, " "), limit, err, res.stderr)
	}
	return res
}

func TestScale200Devices(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: scaleHosts + 1})
	cp := lan.Host(scaleHosts + 1)
	noRaceExitSleep(t)
	bin := buildUPNP(t)
	// Under the race detector every process is several times slower: the
	// bounds grow, the assertions stay.
	slow := time.Duration(1)
	if netlab.RaceEnabled {
		slow = 3
	}

	perHost := scalePerHost()
	total := scaleHosts * perHost
	want := map[string]string{} // UDN: friendly name
	for h := 1; h <= scaleHosts; h++ {
		for i := range perHost {
			want[scaleUDN(h, i)] = scaleName(h, i)
		}
	}
	startDevices := func(h int) *netlab.Proc {
		return lan.Host(h).Start(t, "scale-devices", strconv.Itoa(perHost), strconv.Itoa(h))
	}
	waitFor := func(p *netlab.Proc, d time.Duration, s string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		for line := range p.Follow(ctx) {
			if strings.Contains(line, s) {
				return line
			}
		}
		t.Fatalf("%v printed no line with %q within %v:\n%s", p, s, d, strings.Join(p.Lines(), "\n"))
		return ""
	}

	// The first four hosts' devices are up before the registry starts:
	// its search finds them. The fifth host's come up while it runs: their
	// ssdp:alive feeds it.
	var devs []*netlab.Proc
	for h := 1; h < scaleHosts; h++ {
		devs = append(devs, startDevices(h))
	}
	for _, p := range devs {
		waitFor(p, 30*slow*time.Second, "ready")
	}
	first := total - perHost
	reg := cp.Start(t, "scale-registry", strconv.Itoa(first), strconv.Itoa(total))
	var regLines []scaleLine
	readRegistry := func(n int) scaleLine {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*slow*time.Second)
		defer cancel()
		for line := range reg.Follow(ctx) {
			var l scaleLine
			if json.Unmarshal([]byte(line), &l) == nil && l.Kind == "registry" && l.Devices >= n {
				regLines = append(regLines, l)
				return l
			}
		}
		t.Fatalf("the registry never held %d devices:\n%s", n, strings.Join(reg.Lines(), "\n"))
		return scaleLine{}
	}
	searched := readRegistry(first)
	devs = append(devs, startDevices(scaleHosts))
	waitFor(devs[len(devs)-1], 30*slow*time.Second, "ready")
	full := readRegistry(total)
	waitFor(reg, 10*slow*time.Second, "stopped")
	checkUDNs := func(what string, udns []string) {
		t.Helper()
		got := map[string]int{}
		for _, u := range udns {
			got[u]++
		}
		var missing, extra, twice []string
		for u := range want {
			if got[u] == 0 {
				missing = append(missing, u)
			}
		}
		for u, n := range got {
			if _, ok := want[u]; !ok {
				extra = append(extra, u)
			}
			if n > 1 {
				twice = append(twice, u)
			}
		}
		if len(udns) != total || len(missing)+len(extra)+len(twice) > 0 {
			slices.Sort(missing)
			t.Errorf("%s: %d devices, want %d distinct UDNs; missing %d %v, unexpected %v, more than once %v",
				what, len(udns), total, len(missing), missing, extra, twice)
		}
	}
	checkUDNs("registry after search (with the last host's)", append(slices.Clone(searched.UDNs), lastHostUDNs(perHost)...))
	checkUDNs("registry after ssdp:alive", full.UDNs)
	for _, l := range regLines {
		if len(l.Incomplete) > 0 || l.Dropped != 0 {
			t.Errorf("registry: %d not fully described %v, %d dropped", len(l.Incomplete), l.Incomplete, l.Dropped)
		}
	}
	perDevice := float64(int64(full.Heap)-int64(full.HeapEmpty)) / float64(total)
	marginal := float64(int64(full.Heap)-int64(searched.Heap)) / float64(perHost)
	t.Logf("registry: %d devices from its search in %.0f ms, %d more from ssdp:alive in %.0f ms after they were started",
		searched.Devices, searched.FillMS, full.Devices-searched.Devices, full.FillMS)
	t.Logf("registry: %d distinct parsed SCPDs held for %d devices", full.SCPDs, full.Devices)
	t.Logf("registry heap: empty %d B, %d devices %d B, %d devices %d B: %.0f B per device (all %d), %.0f B per device (the last %d)",
		full.HeapEmpty, searched.Devices, searched.Heap, full.Devices, full.Heap, perDevice, total, marginal, perHost)

	// controlpoint Discover, both ways.
	for _, st := range []string{ssdp.All, ssdp.RootDevice} {
		p := cp.Start(t, "scale-discover", st, "2")
		ctx, cancel := context.WithTimeout(context.Background(), 40*slow*time.Second)
		err := p.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("discover %s: %v\n%s", st, err, strings.Join(p.Lines(), "\n"))
		}
		var udns []string
		var last, end float64
		for _, line := range p.Lines() {
			var l scaleLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Errorf("discover %s: %q: %v", st, line, err)
				continue
			}
			switch l.Kind {
			case "device":
				udns = append(udns, l.UDN)
				last = max(last, l.DescribedMS)
				if !l.Complete || want[l.UDN] != l.Name {
					t.Errorf("discover %s: %s (%q) not fully described: %s", st, l.UDN, l.Name, l.Problem)
				}
			case "error":
				t.Errorf("discover %s: %s", st, l.Err)
			case "end":
				end = l.EndMS
			}
		}
		checkUDNs("discover "+st, udns)
		t.Logf("discover %s (MX 2): %d devices, the last described at %.0f ms, the sequence ended at %.0f ms", st, len(udns), last, end)
	}

	// upnp scan, piped (plain lines) and --json.
	scanLimit := 30 * slow * time.Second
	t.Run("scan", func(t *testing.T) {
		r := runCLI(t, cp, bin, scanLimit, 0, "scan", "-i", "lan0")
		if r.code != ExitOK {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if len(r.stdout) == 0 || !strings.HasPrefix(r.stdout[0].text, "NAME ") {
			t.Fatalf("no header line: %v", r.stdout)
		}
		var udns []string
		for _, l := range r.stdout[1:] {
			f := strings.Fields(l.text)
			if strings.ContainsAny(l.text, "\r\033") || len(f) < 7 || !strings.HasPrefix(f[len(f)-1], "uuid:") {
				t.Errorf("malformed line %q", l.text)
				continue
			}
			udn := f[len(f)-1]
			udns = append(udns, udn)
			if name := want[udn]; !strings.HasPrefix(l.text, name+" ") || !strings.Contains(l.text, "BinaryLight:1") ||
				!strings.Contains(l.text, "upnp-go / BinaryLight") || !strings.Contains(l.text, " 10.77.0.") {
				t.Errorf("line for %s (%q): %q", udn, name, l.text)
			}
		}
		checkUDNs("scan", udns)
		if !strings.Contains(r.stderr, fmt.Sprintf("%d devices in ", total)) {
			t.Errorf("stderr: %s", r.stderr)
		}
		if len(r.stdout) > 1 {
			t.Logf("upnp scan -i lan0: header at %v, first device at %v, last at %v, exit %d at %v",
				r.stdout[0].at.Round(time.Millisecond), r.stdout[1].at.Round(time.Millisecond),
				r.stdout[len(r.stdout)-1].at.Round(time.Millisecond), r.code, r.total.Round(time.Millisecond))
		}
	})
	t.Run("scan --json", func(t *testing.T) {
		r := runCLI(t, cp, bin, scanLimit, 0, "scan", "-i", "lan0", "--json")
		if r.code != ExitOK || r.stderr != "" {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		var udns []string
		for _, l := range r.stdout {
			var raw map[string]json.RawMessage
			var d deviceJSON
			if err := json.Unmarshal([]byte(l.text), &raw); err != nil {
				t.Errorf("%q: %v", l.text, err)
				continue
			}
			for _, k := range []string{"udn", "friendly_name", "device_type", "manufacturer", "model_name", "model_number", "location", "interface", "services", "devices"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("no %q in %s", k, l.text)
				}
			}
			if err := json.Unmarshal([]byte(l.text), &d); err != nil {
				t.Errorf("%q: %v", l.text, err)
				continue
			}
			udns = append(udns, d.UDN)
			ok := d.FriendlyName == want[d.UDN] && d.DeviceType == "urn:schemas-upnp-org:device:BinaryLight:1" &&
				d.Manufacturer == "upnp-go" && d.ModelName == "BinaryLight" && d.ModelNumber == "1" && d.Interface == "lan0" &&
				strings.HasPrefix(d.Location, "http://10.77.0.") && len(d.Services) == 2 && d.Devices != nil && len(d.Devices) == 0
			for _, s := range d.Services {
				ok = ok && s.ServiceType != "" && s.ServiceID != "" && s.SCPDURL != "" && s.ControlURL != "" && s.EventSubURL != "" && s.Error == ""
			}
			if !ok {
				t.Errorf("device %s", l.text)
			}
		}
		checkUDNs("scan --json", udns)
		if len(r.stdout) > 0 {
			t.Logf("upnp scan -i lan0 --json: first device at %v, last at %v, exit %d at %v",
				r.stdout[0].at.Round(time.Millisecond), r.stdout[len(r.stdout)-1].at.Round(time.Millisecond), r.code, r.total.Round(time.Millisecond))
		}
	})
	t.Run("scan interrupted", func(t *testing.T) {
		// Ctrl-C once a quarter of the devices are printed, with
		// descriptions in flight: the scan ends at once with what it has.
		// Its --timeout is long: only the signal ends it.
		lines := 1 + total/4
		r := runCLI(t, cp, bin, scanLimit, lines, "scan", "-i", "lan0", "--timeout", "60s")
		if len(r.stdout) < lines {
			t.Fatalf("%d lines before the end, want at least %d; exit %d\n%s", len(r.stdout), lines, r.code, r.stderr)
		}
		if r.code != ExitOK {
			t.Errorf("exit %d after SIGINT, want 0 (devices were found):\n%s", r.code, r.stderr)
		}
		t.Logf("upnp scan --timeout 60s, SIGINT after %d lines: exit %d, %v after the signal, %d devices printed",
			lines, r.code, (r.total - r.stdout[lines-1].at).Round(time.Millisecond), len(r.stdout)-1)
	})

	// The device processes end, each of its servers after saying byebye.
	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range devs {
		wg.Go(func() {
			if err := p.Stop(); err != nil {
				t.Errorf("%v: %v", p, err)
			}
			if !slices.Contains(p.Lines(), "stopped") {
				t.Errorf("%v did not stop cleanly:\n%s", p, strings.Join(p.Lines(), "\n"))
			}
		})
	}
	wg.Wait()
	t.Logf("the %d device processes stopped in %v", len(devs), time.Since(start).Round(time.Millisecond))
}

// lastHostUDNs returns the UDNs of the last device host, whose devices
// start after the registry.
func lastHostUDNs(perHost int) []string {
	var out []string
	for i := range perHost {
		out = append(out, scaleUDN(scaleHosts, i))
	}
	return out
}
