package lockproof

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

const (
	benchContenders = 8
	benchHold       = 2 * time.Second
)

// lockTrace watches one lock item's DynamoDB traffic at the proxy:
// successful acquires (conditional create), releases, and every request.
type lockTrace struct {
	mu       sync.Mutex
	itemID   string
	start    time.Time
	acquires []time.Time
	releases []time.Time
	requests int
}

func (l *lockTrace) hook(p *testenv.FaultProxy) {
	p.OnResponse = func(r *http.Request, body []byte, status int, at time.Time) {
		if !strings.Contains(string(body), `"`+l.itemID+`"`) {
			return
		}
		op := r.Header.Get("X-Amz-Target")
		l.mu.Lock()
		defer l.mu.Unlock()
		l.requests++
		switch {
		case status != 200:
		case strings.HasSuffix(op, ".PutItem") && strings.Contains(string(body), "attribute_not_exists"):
			l.acquires = append(l.acquires, at)
		case strings.HasSuffix(op, ".DeleteItem"):
			l.releases = append(l.releases, at)
		}
	}
}

// result computes handoffs (release to the next acquire), and lock
// requests per waiter-second: requests other than acquires and releases,
// over the time contenders spent waiting (all start together).
func (l *lockTrace) result() (handoffs []time.Duration, perWaiterSecond float64, makespan time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.Slice(l.acquires, func(i, j int) bool { return l.acquires[i].Before(l.acquires[j]) })
	sort.Slice(l.releases, func(i, j int) bool { return l.releases[i].Before(l.releases[j]) })
	var waited time.Duration
	for i, a := range l.acquires {
		waited += a.Sub(l.start)
		if i > 0 && i-1 < len(l.releases) {
			handoffs = append(handoffs, a.Sub(l.releases[i-1]))
		}
	}
	if n := len(l.releases); n > 0 {
		makespan = l.releases[n-1].Sub(l.start)
	}
	other := l.requests - len(l.acquires) - len(l.releases)
	return handoffs, float64(other) / waited.Seconds(), makespan
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1)+0.5)]
}

// BenchmarkApplyLockHandoff: 8 contenders each holding the lock 2 s, on
// moto (DynamoDB lock table), through a counting proxy: `prstate run`
// with its default poll next to `terraform apply -lock-timeout`, whose
// wait backs off 1, 2, 4, 8, 16 s.
//
//	go test -run '^$' -bench ApplyLockHandoff -benchtime 1x ./internal/lockproof/
func BenchmarkApplyLockHandoff(b *testing.B) {
	tf := testenv.Terraform(b)
	for range b.N {
		pr := benchPrstate(b)
		tfr := benchTerraform(b, tf)
		ph, pr50, pr95 := pr.handoffs, percentile(pr.handoffs, 0.5), percentile(pr.handoffs, 0.95)
		th, tf50, tf95 := tfr.handoffs, percentile(tfr.handoffs, 0.5), percentile(tfr.handoffs, 0.95)
		b.ReportMetric(pr50.Seconds(), "prstate-handoff-p50-s")
		b.ReportMetric(pr95.Seconds(), "prstate-handoff-p95-s")
		b.ReportMetric(pr.rate, "prstate-lock-req/waiter-s")
		b.ReportMetric(tf50.Seconds(), "terraform-handoff-p50-s")
		b.ReportMetric(tf95.Seconds(), "terraform-handoff-p95-s")
		b.ReportMetric(tfr.rate, "terraform-lock-req/waiter-s")
		fmt.Fprintf(os.Stdout, "\n%d contenders holding %s, DynamoDB lock on moto\n", benchContenders, benchHold)
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22s %10s\n", "", "handoff p50", "handoff p95", "lock req/waiter-second", "makespan")
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22.2f %10s\n", "prstate run (apply lock)", pr50.Round(time.Millisecond), pr95.Round(time.Millisecond), pr.rate, pr.makespan.Round(100*time.Millisecond))
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22.2f %10s\n", "terraform apply -lock-timeout=10m", tf50.Round(time.Millisecond), tf95.Round(time.Millisecond), tfr.rate, tfr.makespan.Round(100*time.Millisecond))
		fmt.Fprintf(os.Stdout, "handoffs: prstate %v\n          terraform %v\n", roundAll(ph), roundAll(th))
	}
}

type armResult struct {
	handoffs []time.Duration
	rate     float64
	makespan time.Duration
}

func roundAll(d []time.Duration) []time.Duration {
	out := make([]time.Duration, len(d))
	for i := range d {
		out[i] = d[i].Round(time.Millisecond)
	}
	return out
}

func benchWorld(b *testing.B) (*world, *lockTrace, string) {
	w := newWorld(b, "dynamodb")
	p := testenv.NewFaultProxy(b, w.moto.Endpoint, testenv.Faults{Serialize: true})
	w.endpoint = p.URL
	tr := &lockTrace{}
	tr.hook(p)
	return w, tr, p.URL
}

func runAll(b *testing.B, cmds []*exec.Cmd) {
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := c.CombinedOutput(); err != nil {
				b.Errorf("%v: %v\n%s", c.Args, err, out)
			}
		}()
	}
	wg.Wait()
}

func benchPrstate(b *testing.B) armResult {
	w, tr, _ := benchWorld(b)
	tr.itemID = w.bucket + "/" + stateKey + ".prstate-apply"
	var cmds []*exec.Cmd
	for range benchContenders {
		c := w.prstate(context.Background(), "run", "--lock-timeout", "10m", "--", "sleep", fmt.Sprint(benchHold.Seconds()))
		c.Env = append(c.Env, "PRSTATE_LOCK_POLL=") // the default poll interval
		cmds = append(cmds, c)
	}
	tr.start = time.Now()
	runAll(b, cmds)
	h, rate, mk := tr.result()
	return armResult{h, rate, mk}
}

func benchTerraform(b *testing.B, tf string) armResult {
	w, tr, _ := benchWorld(b)
	tr.itemID = w.bucket + "/" + stateKey
	cfg := w.tfConfig() + fmt.Sprintf(`
resource "terraform_data" "hold" {
  triggers_replace = var.n
  provisioner "local-exec" {
    command = "sleep %g"
  }
}
`, benchHold.Seconds())
	var cmds []*exec.Cmd
	for i := range benchContenders {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
			b.Fatal(err)
		}
		init := exec.Command(tf, "init", "-input=false", "-no-color")
		init.Dir, init.Env = dir, w.environ()
		if out, err := init.CombinedOutput(); err != nil {
			b.Fatalf("terraform init: %v\n%s", err, out)
		}
		c := exec.Command(tf, "apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=10m", fmt.Sprintf("-var=n=%d", i))
		c.Dir, c.Env = dir, w.environ()
		cmds = append(cmds, c)
	}
	tr.mu.Lock()
	tr.requests, tr.acquires, tr.releases = 0, nil, nil // init does not lock, but be sure
	tr.start = time.Now()
	tr.mu.Unlock()
	runAll(b, cmds)
	h, rate, mk := tr.result()
	return armResult{h, rate, mk}
}
