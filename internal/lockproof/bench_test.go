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
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/statekey"
)

const (
	benchContenders = 8
	benchHold       = 2 * time.Second
)

// lockTrace watches one lock's traffic at the proxy: successful
// acquires, releases, and every request. On DynamoDB the lock is an item
// (itemID); on S3 an object (objectKey), whose acquire is the first
// successful PUT of a new holder ID and whose release is the PUT of a
// released record.
type lockTrace struct {
	mu        sync.Mutex
	itemID    string
	objectKey string
	start     time.Time
	acquires  []time.Time
	releases  []time.Time
	requests  int
	holderID  string // S3: the holder of the last acquire
}

// hook traces p's traffic (itemID or objectKey must be set before any).
func (l *lockTrace) hook(p *testenv.FaultProxy) {
	p.OnResponse = func(r *http.Request, body []byte, status int, at time.Time) {
		if l.objectKey != "" {
			l.s3Response(r, body, status, at)
			return
		}
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

func (l *lockTrace) s3Response(r *http.Request, body []byte, status int, at time.Time) {
	if !strings.HasSuffix(r.URL.Path, "/"+l.objectKey) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	if r.Method != http.MethodPut || status != 200 {
		return
	}
	rec, err := applylock.ParseRecord(body)
	switch {
	case err != nil:
	case applylock.IsReleasedRecord(body):
		l.releases = append(l.releases, at)
		l.holderID = ""
	case rec.ID != l.holderID:
		l.acquires = append(l.acquires, at)
		l.holderID = rec.ID
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
// wait backs off 1, 2, 4, 8, 16 s; and `prstate run` with an S3 lock on
// MinIO, which needs no serializing proxy.
//
//	go test -run '^$' -bench ApplyLockHandoff -benchtime 1x ./internal/lockproof/
func BenchmarkApplyLockHandoff(b *testing.B) {
	tf := testenv.Terraform(b)
	for range b.N {
		pr := benchPrstate(b, "dynamodb")
		mn := benchPrstate(b, "minio")
		tfr := benchTerraform(b, tf)
		mh, mn50, mn95 := mn.handoffs, percentile(mn.handoffs, 0.5), percentile(mn.handoffs, 0.95)
		ph, pr50, pr95 := pr.handoffs, percentile(pr.handoffs, 0.5), percentile(pr.handoffs, 0.95)
		th, tf50, tf95 := tfr.handoffs, percentile(tfr.handoffs, 0.5), percentile(tfr.handoffs, 0.95)
		b.ReportMetric(pr50.Seconds(), "prstate-handoff-p50-s")
		b.ReportMetric(pr95.Seconds(), "prstate-handoff-p95-s")
		b.ReportMetric(pr.rate, "prstate-lock-req/waiter-s")
		b.ReportMetric(tf50.Seconds(), "terraform-handoff-p50-s")
		b.ReportMetric(tf95.Seconds(), "terraform-handoff-p95-s")
		b.ReportMetric(tfr.rate, "terraform-lock-req/waiter-s")
		b.ReportMetric(mn50.Seconds(), "prstate-minio-handoff-p50-s")
		b.ReportMetric(mn95.Seconds(), "prstate-minio-handoff-p95-s")
		b.ReportMetric(mn.rate, "prstate-minio-lock-req/waiter-s")
		fmt.Fprintf(os.Stdout, "\n%d contenders holding %s, DynamoDB lock on moto\n", benchContenders, benchHold)
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22s %10s\n", "", "handoff p50", "handoff p95", "lock req/waiter-second", "makespan")
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22.2f %10s\n", "prstate run (apply lock)", pr50.Round(time.Millisecond), pr95.Round(time.Millisecond), pr.rate, pr.makespan.Round(100*time.Millisecond))
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22.2f %10s\n", "terraform apply -lock-timeout=10m", tf50.Round(time.Millisecond), tf95.Round(time.Millisecond), tfr.rate, tfr.makespan.Round(100*time.Millisecond))
		fmt.Fprintf(os.Stdout, "%-38s %12s %12s %22.2f %10s\n", "prstate run (S3 apply lock on MinIO)", mn50.Round(time.Millisecond), mn95.Round(time.Millisecond), mn.rate, mn.makespan.Round(100*time.Millisecond))
		fmt.Fprintf(os.Stdout, "handoffs: prstate %v\n          terraform %v\n          prstate on MinIO %v\n", roundAll(ph), roundAll(th), roundAll(mh))
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

func benchWorld(b *testing.B, backend string) (*world, *lockTrace, string) {
	w := newWorld(b, backend)
	p := testenv.NewFaultProxy(b, w.upstream, testenv.Faults{Serialize: w.moto != nil})
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

func benchPrstate(b *testing.B, backend string) armResult {
	w, tr, _ := benchWorld(b, backend)
	if w.table != "" {
		tr.itemID = statekey.ApplyLockItemID(w.bucket, stateKey)
	} else {
		tr.objectKey = statekey.ApplyLockKey(stateKey)
	}
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
	w, tr, _ := benchWorld(b, "dynamodb")
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
