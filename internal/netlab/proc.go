package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	roleFlag  = "-netlab.role=" // first argument of a role process
	stopGrace = 3 * time.Second // between SIGTERM and SIGKILL in Proc.Stop
	maxLine   = 64 << 10        // longer lines are split
	maxOutput = 8 << 20         // output kept per process; the rest is dropped
	tailLines = 100             // lines of output shown in errors and logs
)

// Role is a program that a host runs in its own process, started by
// Host.Start and run by Main. It gets the arguments given to Start; ctx ends
// when the process gets SIGTERM or SIGINT, as from Proc.Stop. It reports to
// the test by printing lines on stdout, and its result is the exit status.
type Role func(ctx context.Context, args []string) int

// Main is the body of TestMain in packages that use Host.Start, and does not
// return. In a process started by Host.Start it runs the role named there
// and exits with its result, or with 2 when roles has no such role.
// Otherwise it runs the tests and, if they pass, checks that they left no
// goroutine running (go.uber.org/goleak, after a grace of 10 s for
// goroutines still ending): a leak fails the run with the leaked stacks.
// Packages that need no roles call Main(m, nil) for that check alone.
func Main(m *testing.M, roles map[string]Role) {
	if len(os.Args) < 2 || !strings.HasPrefix(os.Args[1], roleFlag) {
		os.Exit(runTests(m, os.Stderr, leakGrace))
	}
	name := strings.TrimPrefix(os.Args[1], roleFlag)
	role := roles[name]
	if role == nil {
		var known []string
		for k := range roles {
			known = append(known, k)
		}
		slices.Sort(known)
		fmt.Fprintf(os.Stderr, "netlab: unknown role %q; roles: %s\n", name, strings.Join(known, " "))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := role(ctx, os.Args[2:])
	stop()
	os.Exit(code)
}

// Proc is a process running in a host, started by Host.Start or
// Host.StartCommand. Its output, stdout and stderr together, is kept line by
// line (up to 8 MiB). Its methods are safe for concurrent use.
//
// The test's cleanup stops it. The cleanup fails the test if a role's output
// shows a data race or a panic, and logs the output's tail if the test
// failed.
type Proc struct {
	// Host is where the process runs.
	Host *Host

	// Name is the role, or the program's file name for StartCommand.
	Name string

	// Pid is the process id, as seen from the test process.
	Pid int

	cmd  *exec.Cmd
	role bool
	out  output
	done chan struct{} // closed when the process is gone and its output read
	err  error         // cmd.Wait's result; set before done is closed
}

// Start runs role in a new process in h: the test binary again, under "ip
// netns exec", with arguments that make Main run role(ctx, args). The
// package's TestMain must call Main. Start ends the test with t.Fatal if the
// process cannot start; a t.Cleanup stops it.
func (h *Host) Start(t testing.TB, role string, args ...string) *Proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("netlab: finding the test binary: %v", err)
	}
	return h.start(t, role, true, exe, append([]string{roleFlag + role}, args...))
}

// StartCommand is like Start for any program, such as gssdp-discover or a
// binary the test built.
func (h *Host) StartCommand(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	return h.start(t, filepath.Base(name), false, name, args)
}

func (h *Host) start(t testing.TB, label string, role bool, name string, args []string) *Proc {
	t.Helper()
	cmd := h.Command(context.Background(), name, args...)
	if role {
		cmd.Env = roleEnv(os.Environ())
	}
	p := &Proc{Host: h, Name: label, cmd: cmd, role: role, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out // one pipe, in the order written
	if err := cmd.Start(); err != nil {
		t.Fatalf("netlab: %s: starting %s: %v", h, label, err)
	}
	p.Pid = cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		p.out.end()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil && errors.Is(err, errKilled) {
			t.Logf("%v", err)
		}
		out := p.output()
		switch {
		case p.role && crashed(out):
			t.Errorf("netlab: %v crashed:\n%s", p, tail(out))
		case t.Failed():
			t.Logf("netlab: %v output:\n%s", p, tail(out))
		}
	})
	return p
}

// roleEnv returns env for a role process. A binary built with -race sleeps
// a second before it exits, to catch races with goroutines still running;
// a role's exit is not worth that, unless GORACE asks for it.
func roleEnv(env []string) []string {
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GORACE="); ok {
			if !strings.Contains(v, "atexit_sleep_ms") {
				env = slices.Clone(env)
				env[i] = strings.TrimSpace(kv + " atexit_sleep_ms=0")
			}
			return env
		}
	}
	return append(env, "GORACE=atexit_sleep_ms=0")
}

// String returns "host/name[pid]".
func (p *Proc) String() string {
	return fmt.Sprintf("%s/%s[%d]", p.Host.Name, p.Name, p.Pid)
}

// Lines returns the output so far, one string per line, without newlines.
func (p *Proc) Lines() []string {
	lines, _, _ := p.out.state()
	return slices.Clone(lines)
}

// Follow yields the output lines: first those already printed, then each
// as it arrives. It ends when the output ends or ctx is done. Every call
// starts again from the first line.
func (p *Proc) Follow(ctx context.Context) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 0; ; {
			lines, ended, changed := p.out.state()
			for ; i < len(lines); i++ {
				if !yield(lines[i]) {
					return
				}
			}
			if ended {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
		}
	}
}

// WaitForLine waits for a line of output, printed before or after the
// call, that contains substr. It returns an error showing the output if
// the output ends or ctx is done first. Follow gives the line itself.
func (p *Proc) WaitForLine(ctx context.Context, substr string) error {
	for line := range p.Follow(ctx) {
		if strings.Contains(line, substr) {
			return nil
		}
	}
	out := p.output()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("netlab: %v printed no line containing %q: %w; output:\n%s", p, substr, err, tail(out))
	}
	<-p.done
	hint := ""
	if p.role && strings.Contains(out, "flag provided but not defined: "+roleFlag[:len(roleFlag)-1]) {
		hint = " (does TestMain call netlab.Main?)"
	}
	return fmt.Errorf("netlab: %v ended (%v) without a line containing %q%s; output:\n%s",
		p, exitDescription(p.err), substr, hint, tail(out))
}

func (p *Proc) output() string {
	lines, _, _ := p.out.state()
	return strings.Join(lines, "\n")
}

// Wait waits for the process to end and returns nil if its exit status was
// 0, or an error wrapping *exec.ExitError. If ctx is done first it returns
// ctx.Err() and the process keeps running.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.result()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ExitCode returns the exit status, or -1 if the process still runs or a
// signal ended it.
func (p *Proc) ExitCode() int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

var errKilled = errors.New("killed")

// Stop sends SIGTERM, waits up to 3 seconds, then sends SIGKILL, and returns
// when the process is gone. It returns nil if the process exited with status
// 0 or died of the SIGTERM; otherwise Wait's error, or an error saying that
// it had to be killed. Stopping a process that already ended returns Wait's
// result.
func (p *Proc) Stop() error {
	select {
	case <-p.done:
		return p.result()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it has just ended
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("netlab: %v ignored SIGTERM for %v: %w", p, stopGrace, errKilled)
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return nil
	}
	return p.result()
}

func (p *Proc) result() error {
	if p.err != nil {
		return fmt.Errorf("netlab: %v: %w", p, p.err)
	}
	return nil
}

func exitDescription(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// crashed reports whether a Go program's output shows a data race or a panic.
func crashed(out string) bool {
	if strings.Contains(out, "WARNING: DATA RACE") {
		return true
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			return true
		}
	}
	return false
}

// tail returns the last lines of out.
func tail(out string) string {
	lines := strings.Split(out, "\n")
	if len(lines) <= tailLines {
		return out
	}
	return fmt.Sprintf("[%d lines omitted]\n%s", len(lines)-tailLines, strings.Join(lines[len(lines)-tailLines:], "\n"))
}

// output is an io.Writer that keeps what a process prints as lines and
// wakes those waiting for more.
type output struct {
	mu        sync.Mutex
	lines     []string // only ever appended to
	partial   []byte
	size      int
	truncated bool
	ended     bool
	changed   chan struct{} // closed and replaced on every change
}

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i]
		}
		o.partial = append(o.partial, chunk...)
		for len(o.partial) > maxLine {
			o.add(string(o.partial[:maxLine]))
			o.partial = append(o.partial[:0], o.partial[maxLine:]...)
		}
		if i < 0 {
			break
		}
		o.add(string(o.partial))
		o.partial = o.partial[:0]
		b = b[i+1:]
	}
	o.notify()
	return n, nil
}

// add appends a line, within maxOutput.
func (o *output) add(line string) {
	switch {
	case o.size+len(line) <= maxOutput:
		o.lines = append(o.lines, line)
		o.size += len(line) + 1
	case !o.truncated:
		o.truncated = true
		o.lines = append(o.lines, fmt.Sprintf("netlab: output beyond %d bytes dropped", maxOutput))
	}
}

func (o *output) end() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.add(string(o.partial))
		o.partial = nil
	}
	o.ended = true
	o.notify()
}

func (o *output) notify() {
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
}

// state returns the lines so far, whether the output has ended, and a
// channel closed at the next change.
func (o *output) state() ([]string, bool, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.changed == nil {
		o.changed = make(chan struct{})
	}
	return o.lines, o.ended, o.changed
}
