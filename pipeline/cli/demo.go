package cli

import (
	"context"
	"flag"

	"github.com/prstate/prstate/pipeline/usage"
)

// demo binds `prstate demo`'s one setting and hands over to App.Demo
// (package demo, wired by main).
func (a *App) demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("prstate demo", flag.ContinueOnError)
	fs.SetOutput(a.Stderr)
	endpoint := newSettingSet(fs, a.Env).String(endpointSetting)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &usage.Error{Msg: err.Error()}
	}
	if a.Demo == nil {
		return &usage.Error{Msg: `unknown command "demo" (run prstate help)`}
	}
	return a.Demo(ctx, a, endpoint.Text())
}
