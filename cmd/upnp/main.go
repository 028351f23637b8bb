// Command upnp searches, describes and controls UPnP devices, and serves them.
// Run "upnp help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/seedb72249f9/upnp/internal/cli"
)

func main() {
	// The first Ctrl-C (or SIGTERM) asks the command to end cleanly
	// (unsubscribe, say byebye). The signals go back to their default before
	// the command is told, so a second one ends the process at once even
	// when a device is slow to answer; with signal.NotifyContext the reset
	// ran on a goroutine of its own and could come after the cleanup began.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}
