// Package cli implements the upnp command line tool. Main takes the arguments
// and the output streams, so tests drive it with buffers.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/seedb72249f9/upnp"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0 // success (for search and scan: at least one answer; for listen: a NOTIFY heard)
	ExitError    = 1 // any other error
	ExitUsage    = 2 // bad command line
	ExitFault    = 3 // the device answered with a UPnP fault
	ExitNotFound = 4 // nothing found: no answer, no such device or service
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{ExitUsage, fmt.Errorf(format, a...)}
}

// upnpFault returns err, from an action called for what, as exit code 3 with
// "what: UPnP error N: description" when it is or wraps a UPnP fault (and with
// asJSON first writes {"error_code", "error_description"} to stdout); any
// other error comes back wrapped with what.
func upnpFault(e *env, asJSON bool, what string, err error) error {
	var ue *upnp.Error
	if !errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", what, err)
	}
	d := ue.Description
	if d == "" {
		d = upnp.ErrorDescription(ue.Code)
	}
	if asJSON {
		writeJSON(e.stdout, map[string]any{"error_code": ue.Code, "error_description": d})
	}
	return &exitError{ExitFault, fmt.Errorf("%s: UPnP error %d: %s", what, ue.Code, d)}
}

func notFound(format string, a ...any) error {
	return &exitError{ExitNotFound, fmt.Errorf(format, a...)}
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
}

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, e *env, args []string) error
}

// commands is the command table, in the order help lists it.
var commands = []command{
	{"listen", "", "print SSDP NOTIFY traffic (alive, byebye, update) as it arrives", runListen},
	{"search", "[ST]", "send an M-SEARCH and print each response as it arrives", runSearch},
	{"serve", "DEVICE", "run a device: light (the example BinaryLight) or mock LOCATION|FILE (a simulator)", runServe},
	{"addr", "IFACE", "keep an IPv4 address on IFACE: DHCP first, else link-local (RFC 3927); print each change", runAddr},
	{"scan", "", "list the devices on the LAN as they answer, described", runScan},
	{"describe", "TARGET", "print a device's services, actions and state variables", runDescribe},
	{"call", "TARGET SERVICE ACTION [Name=Value...]", "invoke an action and print its out arguments", runCall},
	{"play", "TARGET FILE|URL", "play a file (served from here) or a URL on a media renderer until it ends", runPlay},
	{"watch", "TARGET [SERVICE...]", "subscribe to a device's events and print each as it arrives", runWatch},
	{"portmap", "ip|list|add|rm", "map ports on the home router (IGD): its external address, list, add, remove", runPortmap},
	{"demo", "", "run the example light on loopback and drive it: find, describe, switch", runDemo},
}

// Main runs the command line args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if err == nil {
				return ExitOK
			}
			if errors.Is(err, pflag.ErrHelp) {
				return ExitOK
			}
			fmt.Fprintf(stderr, "upnp %s: %v\n", c.name, err)
			var ee *exitError
			if errors.As(err, &ee) {
				return ee.code
			}
			return ExitError
		}
	}
	fmt.Fprintf(stderr, "upnp: unknown command %q\n", args[0])
	usage(stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: upnp COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %-10s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "upnp COMMAND --help" for a command's flags.`)
	fmt.Fprintln(w, "Exit codes: 0 success, 1 error, 2 usage, 3 UPnP fault, 4 nothing found.")
}

// flagSet returns a pflag set that reports usage errors as exitError.
func flagSet(e *env, name, args string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: upnp %s [flags] %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &exitError{ExitUsage, err}
	}
	return nil
}

// netFlags are the flags every network command takes.
type netFlags struct {
	ifaces []string
	v4, v6 bool
}

func (n *netFlags) add(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&n.ifaces, "interface", "i", nil, "interface to use (repeatable; default: every up, multicast-capable, non-loopback one)")
	fs.BoolVarP(&n.v4, "ipv4", "4", false, "IPv4 only")
	fs.BoolVarP(&n.v6, "ipv6", "6", false, "IPv6 only")
}

func (n *netFlags) network() (string, error) {
	switch {
	case n.v4 && n.v6:
		return "", usageErr("-4 and -6 exclude each other")
	case n.v4:
		return "udp4", nil
	case n.v6:
		return "udp6", nil
	}
	return "", nil
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
