// Command prstate gives pull requests their own Terraform state, serializes
// applies on the default branch and cleans up after merge. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/prstate/prstate/pipeline/cli"
	"github.com/prstate/prstate/pipeline/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := cli.New()
	app.Demo = demo.Run
	code := app.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
