// Command mediasign serves private media through signed URLs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mediasign/mediasign/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
