package cli

import (
	"context"
	"strings"
	"testing"
)

// `prstate demo` binds --endpoint (flag over PRSTATE_ENDPOINT) and hands
// over to App.Demo; an App without one has no demo command.
func TestDemoHandsOver(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	app := a.app()
	if code := app.Run(context.Background(), []string{"demo"}); code != 2 || !strings.Contains(a.stderr.String(), `unknown command "demo"`) {
		t.Fatalf("without Demo: exit %d, %s", code, a.stderr.String())
	}
	var got []string
	app.Demo = func(_ context.Context, in *App, endpoint string) error {
		if in != app {
			t.Errorf("Demo got another App")
		}
		got = append(got, endpoint)
		return nil
	}
	a.env["PRSTATE_ENDPOINT"] = "http://env:5000"
	for _, args := range [][]string{{"demo"}, {"demo", "--endpoint", "http://flag:5000"}} {
		if code := app.Run(context.Background(), args); code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, a.stderr.String())
		}
	}
	if len(got) != 2 || got[0] != "http://env:5000" || got[1] != "http://flag:5000" {
		t.Fatalf("endpoints %q", got)
	}
	if code := app.Run(context.Background(), []string{"demo", "--bogus"}); code != 2 {
		t.Fatalf("--bogus: exit %d", code)
	}
}
