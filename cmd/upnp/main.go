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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C asks the command to end cleanly (unsubscribe, say
	// byebye); the signals go back to their default then, so a second one
	// ends the process at once when a device is slow to answer.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
