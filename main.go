// Command prstate gives pull requests their own Terraform state, serializes
// applies on the default branch and cleans up after merge. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/prstate/prstate/pipeline/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.New().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
