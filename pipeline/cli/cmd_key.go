package cli

import (
	"context"
	"fmt"

	"github.com/prstate/prstate/pipeline"
)

var keyCommand = command{
	name:    "key",
	summary: "print the state key for this CI event (the PR key on a pull request)",
	run:     runKey,
}

func runKey(_ context.Context, inv *invocation) error {
	t, err := pipeline.ResolveTarget(inv.cfg.Main(), inv.ev)
	if err != nil {
		return err
	}
	inv.setOutputs(t)
	if inv.cfg.JSON {
		return inv.printJSON(t)
	}
	fmt.Fprintln(inv.stdout(), t.Key)
	return nil
}
