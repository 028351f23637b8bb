package controlpoint_test

// The LAN benchmark of docs/benchmarks.md: on a virtual LAN of 52 network
// namespaces, 46 real gmediarender and 4 real miniupnpd, one per host, are
// found and described by our control point (host 51) and by goupnp (host
// 52), each in its own process, one after the other in the same run; then
// both call RenderingControl GetVolume on the same gmediarender. It is heavy
// (about two minutes, 50 daemons) and runs only with UPNP_LANBENCH=1:
//
//	UPNP_LANBENCH=1 go test -count=1 -run TestLANBench -v -timeout 30m ./controlpoint
//
// UPNP_LANBENCH_RUNS sets the runs per search target (default 5),
// UPNP_LANBENCH_CALLS the SOAP calls per client (default 1000), and
// UPNP_LANBENCH_OUT a file that receives every JSON line the roles print.
// For diagnosis the roles also run by hand in a lab built by
// ../shared/lab/lan.sh, e.g. "ip netns exec upnplab-h51 ./controlpoint.test
// -netlab.role=bench-ours ssdp:all 1 udp4" or "-netlab.role=describe-all 16
// URL...", and UPNP_LANBENCH_CPUPROFILE=FILE makes bench-ours and
// describe-all write a CPU profile.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/dcps/av1"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

// TestMain lets the LAN benchmark run control points as processes inside
// network namespaces (internal/netlab).
func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{
		"bench-ours":   roleBenchOurs,
		"bench-goupnp": roleBenchGoupnp,
		"soap-ours":    roleSOAPOurs,
		"soap-goupnp":  roleSOAPGoupnp,
		"wait-http":    roleWaitHTTP,
		"describe-all": roleDescribeAll,
		"fault-light":  roleFaultLight,
		"fault-cp":     roleFaultCP,
	})
}

const (
	benchRenderers = 46 // gmediarender on h1..h46
	benchIGDs      = 4  // miniupnpd on h47..h50
	benchOurs      = benchRenderers + benchIGDs + 1
	benchGoupnp    = benchOurs + 1
	stRenderer     = "urn:schemas-upnp-org:device:MediaRenderer:1"
)

// benchLine is one JSON line printed by a benchmark role. Times are in
// milliseconds since the search (or the first call) started.
type benchLine struct {
	Kind string `json:"kind"` // device, error, end, soap
	CP   string `json:"cp"`   // ours, goupnp
	ST   string `json:"st,omitempty"`
	Run  int    `json:"run,omitempty"`

	UDN         string  `json:"udn,omitempty"`
	USN         string  `json:"usn,omitempty"`
	Location    string  `json:"location,omitempty"`
	FoundMS     float64 `json:"found_ms,omitempty"`     // the SSDP answer arrived (ours)
	DescribedMS float64 `json:"described_ms,omitempty"` // description and SCPDs in (ours); DiscoverDevicesCtx returned (goupnp)
	Services    int     `json:"services,omitempty"`
	SCPDErrors  int     `json:"scpd_errors,omitempty"`
	Err         string  `json:"err,omitempty"`

	EndMS    float64 `json:"end_ms,omitempty"`    // the role's discovery ended
	WindowMS float64 `json:"window_ms,omitempty"` // goupnp: its search window
	SCPDMS   float64 `json:"scpd_ms,omitempty"`   // goupnp: after fetching every SCPD, serially

	Calls  int     `json:"calls,omitempty"`
	Errors int     `json:"errors,omitempty"`
	P50US  float64 `json:"p50_us,omitempty"`
	P90US  float64 `json:"p90_us,omitempty"`
	P99US  float64 `json:"p99_us,omitempty"`
	MaxUS  float64 `json:"max_us,omitempty"`
	MeanUS float64 `json:"mean_us,omitempty"`
}

func emit(l benchLine) {
	b, _ := json.Marshal(l)
	fmt.Println(string(b))
}

func msSince(t0, t time.Time) float64 { return float64(t.Sub(t0).Microseconds()) / 1000 }

// roleBenchOurs: args ST MX NETWORK. Discovers with controlpoint.Discover and
// prints a device line as each root device is yielded, then an end line.
func roleBenchOurs(ctx context.Context, args []string) int {
	st, network := args[0], args[2]
	mx, _ := strconv.Atoi(args[1])
	c := &controlpoint.Client{Network: network}
	defer profile()()
	t0 := time.Now()
	req := ssdp.SearchRequest{Target: st, MX: mx, Sends: envInt("UPNP_LANBENCH_SENDS", 0),
		Interval: time.Duration(envInt("UPNP_LANBENCH_INTERVAL_MS", 0)) * time.Millisecond}
	for d, err := range c.Discover(ctx, req) {
		if err != nil {
			emit(benchLine{Kind: "error", CP: "ours", Err: err.Error(), DescribedMS: msSince(t0, time.Now())})
			continue
		}
		l := benchLine{Kind: "device", CP: "ours", UDN: d.Root.Device.UDN, USN: d.USN, Location: d.Location,
			FoundMS: msSince(t0, d.Found), DescribedMS: msSince(t0, d.Described), Services: len(d.Services)}
		for _, s := range d.Services {
			if s.Err != nil {
				l.SCPDErrors++
			}
		}
		emit(l)
	}
	emit(benchLine{Kind: "end", CP: "ours", EndMS: msSince(t0, time.Now())})
	return 0
}

// roleBenchGoupnp: args ST. Runs goupnp's DiscoverDevicesCtx, which returns
// everything at once after its 2 s window and its serial description
// fetches; prints a device line per result, then fetches the SCPD of every
// service of each distinct device, serially as goupnp offers it, for
// comparison with ours, which fetches them during discovery.
func roleBenchGoupnp(ctx context.Context, args []string) int {
	st := args[0]
	t0 := time.Now()
	devs, err := goupnp.DiscoverDevicesCtx(ctx, st)
	ret := msSince(t0, time.Now())
	if err != nil {
		emit(benchLine{Kind: "error", CP: "goupnp", Err: err.Error(), DescribedMS: ret})
		emit(benchLine{Kind: "end", CP: "goupnp", EndMS: ret, WindowMS: 2000})
		return 0
	}
	var roots []*goupnp.RootDevice
	seen := map[string]bool{}
	for _, d := range devs {
		l := benchLine{Kind: "device", CP: "goupnp", USN: d.USN, DescribedMS: ret}
		if d.Location != nil {
			l.Location = d.Location.String()
		}
		if d.Err != nil {
			l.Kind, l.Err = "error", d.Err.Error()
			emit(l)
			continue
		}
		l.UDN = d.Root.Device.UDN
		n := 0
		d.Root.Device.VisitServices(func(*goupnp.Service) { n++ })
		l.Services = n
		emit(l)
		if !seen[l.UDN] {
			seen[l.UDN] = true
			roots = append(roots, d.Root)
		}
	}
	for _, r := range roots {
		r.Device.VisitServices(func(s *goupnp.Service) {
			if _, err := s.RequestSCPDCtx(ctx); err != nil {
				emit(benchLine{Kind: "error", CP: "goupnp", UDN: r.Device.UDN, Err: "scpd: " + err.Error()})
			}
		})
	}
	emit(benchLine{Kind: "end", CP: "goupnp", EndMS: ret, WindowMS: 2000, SCPDMS: msSince(t0, time.Now())})
	return 0
}

// latencies turns call durations into a soap line.
func latencies(cp string, d []time.Duration, errs int) benchLine {
	slices.Sort(d)
	us := func(x time.Duration) float64 { return float64(x.Nanoseconds()) / 1000 }
	q := func(p float64) float64 {
		if len(d) == 0 {
			return 0
		}
		return us(d[min(len(d)-1, int(math.Ceil(p*float64(len(d))))-1)])
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	l := benchLine{Kind: "soap", CP: cp, Calls: len(d), Errors: errs, P50US: q(0.50), P90US: q(0.90), P99US: q(0.99)}
	if len(d) > 0 {
		l.MaxUS, l.MeanUS = us(d[len(d)-1]), us(sum)/float64(len(d))
	}
	return l
}

// roleSOAPOurs: args LOCATION N. Describes the device, then calls
// RenderingControl GetVolume N times after 20 calls of warm-up.
func roleSOAPOurs(ctx context.Context, args []string) int {
	n, _ := strconv.Atoi(args[1])
	c := &controlpoint.Client{}
	d, err := c.Describe(ctx, args[0])
	if err != nil {
		emit(benchLine{Kind: "error", CP: "ours", Err: err.Error()})
		return 1
	}
	svc := d.Service("RenderingControl")
	in := map[string]any{"InstanceID": uint32(0), "Channel": "Master"}
	var d2 []time.Duration
	errs := 0
	for i := range n + 20 {
		t := time.Now()
		_, err := c.Invoke(ctx, svc, "GetVolume", in)
		if i < 20 {
			continue
		}
		if err != nil {
			errs++
			if errs == 1 {
				emit(benchLine{Kind: "error", CP: "ours", Err: err.Error()})
			}
			continue
		}
		d2 = append(d2, time.Since(t))
	}
	emit(latencies("ours", d2, errs))
	return 0
}

// roleSOAPGoupnp: args LOCATION N. Like roleSOAPOurs with goupnp's generated
// RenderingControl1 client.
func roleSOAPGoupnp(ctx context.Context, args []string) int {
	n, _ := strconv.Atoi(args[1])
	loc, err := url.Parse(args[0])
	if err != nil {
		return 2
	}
	cs, err := av1.NewRenderingControl1ClientsByURLCtx(ctx, loc)
	if err != nil || len(cs) == 0 {
		emit(benchLine{Kind: "error", CP: "goupnp", Err: fmt.Sprint("no client: ", err)})
		return 1
	}
	c := cs[0]
	var d []time.Duration
	errs := 0
	for i := range n + 20 {
		t := time.Now()
		_, err := c.GetVolumeCtx(ctx, 0, "Master")
		if i < 20 {
			continue
		}
		if err != nil {
			errs++
			if errs == 1 {
				emit(benchLine{Kind: "error", CP: "goupnp", Err: err.Error()})
			}
			continue
		}
		d = append(d, time.Since(t))
	}
	emit(latencies("goupnp", d, errs))
	return 0
}

// profile writes a CPU profile of the role to $UPNP_LANBENCH_CPUPROFILE, when
// set, until the function it returns is called.
func profile() func() {
	if p := os.Getenv("UPNP_LANBENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			return func() { pprof.StopCPUProfile(); f.Close() }
		}
	}
	return func() {}
}

// roleDescribeAll: args MAXFETCHES URL... A diagnostic: describes every URL
// at once with Client.Describe, without a search, and prints a device line
// per URL and an end line.
func roleDescribeAll(ctx context.Context, args []string) int {
	n, _ := strconv.Atoi(args[0])
	defer profile()()
	c := &controlpoint.Client{MaxFetches: n}
	t0 := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, u := range args[1:] {
		wg.Go(func() {
			d, err := c.Describe(ctx, u)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				emit(benchLine{Kind: "error", CP: "ours", Location: u, Err: err.Error(), DescribedMS: msSince(t0, time.Now())})
				return
			}
			emit(benchLine{Kind: "device", CP: "ours", UDN: d.Root.Device.UDN, Location: u, DescribedMS: msSince(t0, d.Described)})
		})
	}
	wg.Wait()
	emit(benchLine{Kind: "end", CP: "ours", EndMS: msSince(t0, time.Now())})
	return 0
}

// roleWaitHTTP: args TIMEOUT URL... Waits until every URL answers 200 and
// prints "ready N", or prints "missing URL..." at the timeout.
func roleWaitHTTP(ctx context.Context, args []string) int {
	timeout, _ := time.ParseDuration(args[0])
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	left := slices.Clone(args[1:])
	for len(left) > 0 && ctx.Err() == nil {
		var still []string
		for _, u := range left {
			resp, err := hc.Get(u)
			if err == nil {
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				still = append(still, u)
			}
		}
		left = still
		if len(left) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	if len(left) > 0 {
		fmt.Println("missing", strings.Join(left, " "))
		return 1
	}
	fmt.Println("ready", len(args)-1)
	return 0
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestLANBench measures discovery and SOAP latency of our control point and
// goupnp's against 50 real devices; see the top of this file.
func TestLANBench(t *testing.T) {
	if os.Getenv("UPNP_LANBENCH") != "1" {
		t.Skip("the LAN benchmark starts 50 real UPnP daemons in network namespaces and takes minutes; set UPNP_LANBENCH=1 to run it (as root, with ../shared/lab installed)")
	}
	for _, bin := range []string{"/usr/bin/gmediarender", "/usr/sbin/miniupnpd"} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s is not installed (../shared/lab/install.sh installs it)", bin)
		}
	}
	lab, _ := filepath.Abs("../../shared/lab")
	if _, err := os.Stat(filepath.Join(lab, "peers.sh")); err != nil {
		t.Fatal("the lab scripts are not at " + lab)
	}
	runs := envInt("UPNP_LANBENCH_RUNS", 5)
	calls := envInt("UPNP_LANBENCH_CALLS", 1000)
	var out *os.File
	if p := os.Getenv("UPNP_LANBENCH_OUT"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out = f
	}

	start := time.Now()
	lan := netlab.New(t, netlab.Config{Hosts: benchGoupnp})
	t.Logf("LAN %s of %d hosts built in %v", lan.Name, len(lan.Hosts), time.Since(start).Round(time.Millisecond))

	// The peers, all at once: peers.sh waits 2 s after each start.
	env := append(os.Environ(), "UPNPLAB_PREFIX="+lan.Name, "UPNPLAB_STATE="+t.TempDir())
	peers := func(args ...string) ([]byte, error) {
		cmd := exec.Command(filepath.Join(lab, "peers.sh"), args...)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() {
		if out, err := peers("stop-all"); err != nil {
			t.Logf("peers.sh stop-all: %v\n%s", err, out)
		}
	})
	start = time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, benchOurs)
	var urls []string
	for i := 1; i < benchOurs; i++ {
		peer, loc := "gmediarender", fmt.Sprintf("http://%s:49494/description.xml", lan.Host(i).IPv4)
		if i > benchRenderers {
			peer, loc = "miniupnpd", fmt.Sprintf("http://%s:5000/rootDesc.xml", lan.Host(i).IPv4)
		}
		urls = append(urls, loc)
		wg.Go(func() {
			if out, err := peers("start", peer, fmt.Sprint(i)); err != nil {
				errs <- fmt.Sprintf("peers.sh start %s %d: %v\n%s", peer, i, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if t.Failed() {
		t.FailNow()
	}
	w := lan.Host(benchOurs).Start(t, "wait-http", append([]string{"60s"}, urls...)...)
	if err := w.Wait(context.Background()); err != nil {
		t.Fatalf("the devices did not all come up: %v\n%s", err, strings.Join(w.Lines(), "\n"))
	}
	t.Logf("%d devices up in %v", len(urls), time.Since(start).Round(time.Millisecond))
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemAvailable:") || strings.HasPrefix(l, "MemTotal:") {
				t.Log(l)
			}
		}
	}
	time.Sleep(5 * time.Second) // the SSDP sockets, bound after HTTP in libupnp; start-up load

	var lines []benchLine
	load := map[string]string{} // role ST run: the load average when it started
	run := func(h *netlab.Host, role string, st string, r int, args ...string) {
		t.Helper()
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			load[fmt.Sprint(role, st, r)] = strings.Fields(string(b))[0]
		}
		p := h.Start(t, role, args...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("%s: %v\n%s", role, err, strings.Join(p.Lines(), "\n"))
		}
		for _, s := range p.Lines() {
			var l benchLine
			if !strings.HasPrefix(s, "{") || json.Unmarshal([]byte(s), &l) != nil {
				t.Logf("%s: %s", role, s)
				continue
			}
			l.ST, l.Run = st, r
			lines = append(lines, l)
			if out != nil {
				b, _ := json.Marshal(l)
				fmt.Fprintf(out, "%s\n", b)
			}
		}
	}
	for r := 1; r <= runs; r++ {
		for _, st := range benchTargets() {
			ours := func() { run(lan.Host(benchOurs), "bench-ours", st, r, st, "1", "udp4") }
			theirs := func() { run(lan.Host(benchGoupnp), "bench-goupnp", st, r, st) }
			// Alternate who goes first; pause so late answers and
			// connections of one do not meet the other.
			if r%2 == 1 {
				ours()
				time.Sleep(time.Second)
				theirs()
			} else {
				theirs()
				time.Sleep(time.Second)
				ours()
			}
			time.Sleep(time.Second)
		}
	}
	run(lan.Host(benchOurs), "soap-ours", "", 0, urls[0], fmt.Sprint(calls))
	run(lan.Host(benchGoupnp), "soap-goupnp", "", 0, urls[0], fmt.Sprint(calls))

	report(t, lines, runs, load)
}

// benchTargets are the search targets measured: ssdp:all and the
// MediaRenderer type, or only those named in UPNP_LANBENCH_TARGETS ("all",
// "renderer", comma-separated).
func benchTargets() []string {
	v := os.Getenv("UPNP_LANBENCH_TARGETS")
	if v == "" {
		return []string{ssdp.All, stRenderer}
	}
	var sts []string
	for _, f := range strings.Split(v, ",") {
		switch f {
		case "all":
			sts = append(sts, ssdp.All)
		case "renderer":
			sts = append(sts, stRenderer)
		}
	}
	return sts
}

// runStats are the discovery figures of one role in one run.
type runStats struct {
	found                     int
	firstDescribed, firstLag  float64 // first device described; minus its answer
	allDescribed, lastAnswer  float64
	afterLast, maxLag, scpdMS float64
	errors                    int
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// report logs per-run figures and the summary table.
func report(t *testing.T, lines []benchLine, runs int, load map[string]string) {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "\n### LAN benchmark: %d runs per search target\n\n", runs)
	for _, st := range benchTargets() {
		want := benchRenderers + benchIGDs
		if st == stRenderer {
			want = benchRenderers
		}
		stats := map[string][]runStats{}
		for r := 1; r <= runs; r++ {
			for _, cp := range []string{"ours", "goupnp"} {
				s := runStats{firstDescribed: math.Inf(1)}
				udns := map[string]bool{}
				for _, l := range lines {
					if l.ST != st || l.Run != r || l.CP != cp {
						continue
					}
					switch l.Kind {
					case "error":
						s.errors++
					case "end":
						s.scpdMS = l.SCPDMS
					case "device":
						udns[l.UDN] = true
						if l.DescribedMS < s.firstDescribed {
							s.firstDescribed, s.firstLag = l.DescribedMS, l.DescribedMS-l.FoundMS
						}
						s.allDescribed = max(s.allDescribed, l.DescribedMS)
						s.lastAnswer = max(s.lastAnswer, l.FoundMS)
						if l.FoundMS > 0 {
							s.maxLag = max(s.maxLag, l.DescribedMS-l.FoundMS)
						}
						if l.SCPDErrors > 0 {
							s.errors++
						}
					}
				}
				s.found = len(udns)
				s.afterLast = s.allDescribed - s.lastAnswer
				stats[cp] = append(stats[cp], s)
				fmt.Fprintf(w, "run %d %-45s %-6s found %2d/%d  first described %7.1f ms (%.1f ms after its answer)  all described %7.1f ms  last answer %7.1f ms  (+%.1f ms)  max lag %.1f ms  scpd %7.1f ms  errors %d  load %s\n",
					r, st, cp, s.found, want, s.firstDescribed, s.firstLag, s.allDescribed, s.lastAnswer, s.afterLast, s.maxLag, s.scpdMS, s.errors, load[fmt.Sprint("bench-"+cp, st, r)])
				if cp == "ours" && s.found != want {
					t.Errorf("run %d %s: ours found %d of %d", r, st, s.found, want)
				}
			}
		}
		fmt.Fprintf(w, "\n#### ST %s (%d devices answer)\n\n", st, want)
		fmt.Fprintf(w, "| | found (median / min) | first described (median) | first described after its answer (median / max) | all described (median / max) | last answer (median) | all described after the last answer (median / max) |\n|---|---|---|---|---|---|---|\n")
		for _, cp := range []string{"ours", "goupnp"} {
			col := func(f func(runStats) float64) []float64 {
				var x []float64
				for _, s := range stats[cp] {
					x = append(x, f(s))
				}
				return x
			}
			found := col(func(s runStats) float64 { return float64(s.found) })
			if cp == "ours" {
				fmt.Fprintf(w, "| ours | %.0f / %.0f of %d | %.0f ms | %.1f / %.1f ms | %.0f / %.0f ms | %.0f ms | %.1f / %.1f ms |\n", median(found), slices.Min(found), want,
					median(col(func(s runStats) float64 { return s.firstDescribed })),
					median(col(func(s runStats) float64 { return s.firstLag })), slices.Max(col(func(s runStats) float64 { return s.firstLag })),
					median(col(func(s runStats) float64 { return s.allDescribed })), slices.Max(col(func(s runStats) float64 { return s.allDescribed })),
					median(col(func(s runStats) float64 { return s.lastAnswer })),
					median(col(func(s runStats) float64 { return s.afterLast })), slices.Max(col(func(s runStats) float64 { return s.afterLast })))
			} else {
				fmt.Fprintf(w, "| goupnp | %.0f / %.0f of %d | %.0f ms | n/a (all at once) | %.0f / %.0f ms (descriptions only; + SCPDs serially: %.0f ms) | n/a | n/a |\n", median(found), slices.Min(found), want,
					median(col(func(s runStats) float64 { return s.firstDescribed })),
					median(col(func(s runStats) float64 { return s.allDescribed })), slices.Max(col(func(s runStats) float64 { return s.allDescribed })),
					median(col(func(s runStats) float64 { return s.scpdMS })))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "#### SOAP: RenderingControl GetVolume on one gmediarender, sequential calls\n\n| | calls | errors | p50 | p90 | p99 | max | mean |\n|---|---|---|---|---|---|---|---|\n")
	for _, l := range lines {
		if l.Kind == "soap" {
			fmt.Fprintf(w, "| %s | %d | %d | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.0f µs |\n", l.CP, l.Calls, l.Errors, l.P50US, l.P90US, l.P99US, l.MaxUS, l.MeanUS)
		}
	}
}
