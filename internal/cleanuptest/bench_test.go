package cleanuptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/cli"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// parallelDo runs fn(0..n-1) on workers goroutines; the first error fails b.
func parallelDo(b testing.TB, n, workers int, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

// lockCycles is how many locked terraform runs each PR state saw.
const lockCycles = 2

// seedPRStates gives each of n PRs what a PR's life leaves with
// use_lockfile and dynamodb_table: 3 state versions (seeds, byte copies of
// production's 3 versions, as production moved on), a .tflock version and
// its delete marker per terraform run, the digest item. Production gets
// its 3 versions first. It writes in parallel.
func seedPRStates(b testing.TB, s cleanuptest.Store, st statekey.Stack, n int) {
	b.Helper()
	ctx := context.Background()
	var bodies [][]byte
	for v := range 3 {
		body := cleanuptest.StateJSON(v+1, cleanuptest.Lineage, "terraform_data.a")
		bodies = append(bodies, body)
		if _, err := s.Bucket.PutObject(ctx, cleanuptest.Prod, body, storage.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	parallelDo(b, n, 32, func(i int) error {
		pr := i + 1
		key, _ := st.Keys.Render(pr)
		for v, body := range bodies {
			meta := map[string]string{tfstate.MetaSeedSource: cleanuptest.Prod, tfstate.MetaSeedSerial: strconv.Itoa(v + 1), tfstate.MetaSeedLineage: cleanuptest.Lineage}
			if _, err := s.Bucket.PutObject(ctx, key, body, storage.PutOptions{Metadata: meta}); err != nil {
				return err
			}
		}
		for range lockCycles {
			info := applylock.LockInfo{ID: applylock.NewLockID(), Operation: "OperationTypePlan", Who: "runner@host", Created: time.Now().UTC(), Path: s.Bucket.Name() + "/" + key}
			if _, err := s.Bucket.PutObject(ctx, key+".tflock", info.Marshal(), storage.PutOptions{}); err != nil {
				return err
			}
			if err := s.Bucket.DeleteObject(ctx, key+".tflock", ""); err != nil {
				return err
			}
		}
		return s.Table.PutItem(ctx, storage.Item{storage.KeyAttr: statekey.DigestID(s.Bucket.Name(), key), "Digest": "0123456789abcdef0123456789abcdef"}, storage.Condition{})
	})
}

// handWritten is what a team scripts without prstate: list the versions
// under the PR prefix (aws s3api list-object-versions), delete them one by
// one (delete-object --version-id; `aws s3 rm --recursive` would only add
// delete markers), then the digests one by one (dynamodb delete-item).
// Emulated with the same SDK and server, minus the CLI's process start-up.
func handWritten(ctx context.Context, s3c *s3.Client, ddb *dynamodb.Client, bucket, table, prefix string, keys []string) (requests int, err error) {
	p := s3.NewListObjectVersionsPaginator(s3c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	type kv struct{ key, id string }
	var all []kv
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		requests++
		if err != nil {
			return requests, err
		}
		for _, v := range page.Versions {
			all = append(all, kv{aws.ToString(v.Key), aws.ToString(v.VersionId)})
		}
		for _, d := range page.DeleteMarkers {
			all = append(all, kv{aws.ToString(d.Key), aws.ToString(d.VersionId)})
		}
	}
	for _, v := range all {
		requests++
		if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(v.key), VersionId: aws.String(v.id)}); err != nil {
			return requests, err
		}
	}
	for _, k := range keys {
		requests++
		_, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
			storage.KeyAttr: &ddbtypes.AttributeValueMemberS{Value: statekey.DigestID(bucket, k)},
		}})
		if err != nil {
			return requests, err
		}
	}
	return requests, nil
}

// leftUnder counts versions left under prefix.
func leftUnder(b testing.TB, s cleanuptest.Store, prefix string) int {
	b.Helper()
	vs, err := s.Bucket.ListObjectVersions(context.Background(), prefix)
	if err != nil {
		b.Fatal(err)
	}
	return len(vs)
}

// countingProxy stands between the SDK and moto: it counts requests and,
// with PRSTATE_BENCH_RTT, delays each by a round trip like AWS's (moto on
// loopback answers in microseconds plus its own work; AWS in tens of ms).
type countingProxy struct {
	requests atomic.Int64
	s3       *s3.Client
	ddb      *dynamodb.Client
}

func newCountingProxy(b testing.TB, m *testenv.MotoServer, rtt time.Duration) *countingProxy {
	target, err := url.Parse(m.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if rtt > 0 {
			time.Sleep(rtt)
		}
		rp.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(srv.URL)
	p.s3, p.ddb = awsstore.NewS3Client(cfg), awsstore.NewDynamoDBClient(cfg)
	return p
}

// BenchmarkCleanup removes 1,000 PR states from moto with prstate's
// batched cleanup and with the hand-written loop, in the same run. Both go
// through the same counting proxy. PRSTATE_BENCH_PRS changes the number of
// PR states, PRSTATE_BENCH_RTT (e.g. 20ms) adds a round trip per request.
//
//	go test -run '^$' -bench BenchmarkCleanup -benchtime 1x ./internal/cleanuptest/
func BenchmarkCleanup(b *testing.B) {
	m := testenv.Moto(b)
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("PRSTATE_BENCH_PRS")); err == nil && v > 0 {
		n = v
	}
	rtt, _ := time.ParseDuration(os.Getenv("PRSTATE_BENCH_RTT"))
	ctx := context.Background()
	perPR := 3 + 2*lockCycles
	for range b.N {
		b.StopTimer()
		proxy := newCountingProxy(b, m, rtt)
		// Seeding goes to moto directly: only the cleanups see the proxy.
		s := cleanuptest.Store{Bucket: m.Bucket(b, m.NewBucket(b, true)), Table: m.Table(b, m.NewTable(b))}
		st := cleanuptest.Stack(b, s, true, true, false)
		seedPRStates(b, s, st, n)
		prs := make([]int, n)
		for i := range prs {
			prs[i] = i + 1
		}
		via := cleanup.Store{Bucket: awsstore.NewBucket(proxy.s3, s.Bucket.Name()), Table: awsstore.NewTable(proxy.ddb, s.Table.Name())}
		b.StartTimer()
		start := time.Now()
		res, err := cleanup.Run(ctx, via, st, prs, cleanup.Options{LockTimeout: time.Minute, Who: "bench", Population: n})
		ours := time.Since(start)
		b.StopTimer()
		ourRequests := proxy.requests.Load()
		if err != nil {
			b.Fatal(err)
		}
		versions := 0
		for _, r := range res {
			versions += r.Versions
		}
		if left := leftUnder(b, s, st.Keys.ListPrefix()); left != 0 || versions != perPR*n {
			b.Fatalf("prstate left %d versions, removed %d (want %d)", left, versions, perPR*n)
		}

		s2 := cleanuptest.Store{Bucket: m.Bucket(b, m.NewBucket(b, true)), Table: m.Table(b, m.NewTable(b))}
		st2 := cleanuptest.Stack(b, s2, true, true, false)
		seedPRStates(b, s2, st2, n)
		keys := make([]string, n)
		for i := range keys {
			keys[i], _ = st2.Keys.Render(i + 1)
		}
		proxy.requests.Store(0)
		start = time.Now()
		_, err = handWritten(ctx, proxy.s3, proxy.ddb, s2.Bucket.Name(), s2.Table.Name(), st2.Keys.ListPrefix(), keys)
		alt := time.Since(start)
		altRequests := proxy.requests.Load()
		if err != nil {
			b.Fatal(err)
		}
		if left := leftUnder(b, s2, st2.Keys.ListPrefix()); left != 0 {
			b.Fatalf("the hand-written loop left %d versions", left)
		}
		b.ReportMetric(ours.Seconds(), "prstate-s")
		b.ReportMetric(alt.Seconds(), "handwritten-s")
		b.ReportMetric(alt.Seconds()/ours.Seconds(), "speedup-x")
		b.ReportMetric(float64(ourRequests), "prstate-requests")
		b.ReportMetric(float64(altRequests), "handwritten-requests")
		fmt.Printf("\ncleanup of %d PR states (%d versions, %d digests) on moto, added round trip %s:\n  %-46s %8.2fs  %6d requests\n  %-46s %8.2fs  %6d requests\n  speed-up %.1fx\n",
			n, perPR*n, n, rtt, "prstate (locks, applied-to check, batch deletes)", ours.Seconds(), ourRequests,
			"hand-written (list, delete one by one)", alt.Seconds(), altRequests, alt.Seconds()/ours.Seconds())
	}
}

// BenchmarkSweep sweeps 10,000 PR states of which 100 belong to closed PRs,
// through the CLI, against the in-memory store and a fake GitHub API over
// HTTP (10,000 open and recently closed PRs plus 5,000 closed long ago).
// Next to it: asking GitHub about each PR state's PR, one request each.
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 1x ./internal/cleanuptest/
func BenchmarkSweep(b *testing.B) {
	const states, closedN, history = 10000, 100, 5000
	for range b.N {
		b.StopTimer()
		bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
		s := cleanuptest.Store{Bucket: bucket, Table: table}
		st := cleanuptest.Stack(b, s, true, true, false)
		ctx := context.Background()
		cleanuptest.Put(b, s, cleanuptest.Prod, cleanuptest.StateJSON(1, cleanuptest.Lineage))
		now := time.Now()
		var pulls []githubfake.Pull
		for pr := 1; pr <= states; pr++ {
			key, _ := st.Keys.Render(pr)
			meta := map[string]string{tfstate.MetaSeedSource: cleanuptest.Prod}
			if _, err := bucket.PutObject(ctx, key, cleanuptest.StateJSON(1, cleanuptest.Lineage), storage.PutOptions{Metadata: meta}); err != nil {
				b.Fatal(err)
			}
			closed := pr%(states/closedN) == 0
			pulls = append(pulls, githubfake.Pull{Number: pr, State: githubfake.StateOf(closed), Merged: closed, UpdatedAt: now.Add(time.Duration(pr) * time.Second)})
		}
		for i := range history {
			pulls = append(pulls, githubfake.Pull{Number: states + 1 + i, State: "closed", UpdatedAt: now.Add(-48*time.Hour - time.Duration(i)*time.Hour)})
		}
		gh := githubfake.New(b, "acme/infra")
		gh.Token = "ghs_bench"
		gh.AddPulls(pulls...)
		var out, errb bytes.Buffer
		app := &cli.App{
			Env: func(k string) string {
				return map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_REPOSITORY": "acme/infra", "PRSTATE_GITHUB_TOKEN": "ghs_bench"}[k]
			},
			Stdout: &out, Stderr: &errb, FS: os.DirFS("/"), Cwd: b.TempDir(), ReadFile: os.ReadFile, Clock: clock.Real,
			Open: func(context.Context, backend.Backend) (cli.Store, error) {
				return cli.Store{Bucket: bucket, Table: table}, nil
			},
		}
		b.StartTimer()
		start := time.Now()
		code := app.Run(ctx, []string{"sweep", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--dynamodb-table", "tf-locks", "--use-lockfile", "--json"})
		ours := time.Since(start)
		b.StopTimer()
		if code != 0 {
			b.Fatalf("sweep exit %d: %s", code, errb.String())
		}
		var rep struct {
			Deleted        int `json:"deleted"`
			GitHubRequests int `json:"github_requests"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Deleted != closedN || rep.GitHubRequests != gh.AllRequests() {
			b.Fatalf("report %+v (%v), fake saw %d requests", rep, err, gh.AllRequests())
		}
		objs, _ := bucket.ListObjects(ctx, st.Keys.ListPrefix())
		if len(objs) != states-closedN {
			b.Fatalf("%d PR states left, want %d", len(objs), states-closedN)
		}

		// The alternative: GET /pulls/N for each PR state found.
		before := gh.AllRequests()
		client := &http.Client{}
		start = time.Now()
		naiveClosed := 0
		for pr := 1; pr <= states; pr++ {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gh.URL+"repos/acme/infra/pulls/"+strconv.Itoa(pr), nil)
			req.Header.Set("Authorization", "Bearer ghs_bench")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var p struct {
				State string `json:"state"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if p.State == "closed" {
				naiveClosed++
			}
		}
		naive := time.Since(start)
		naiveRequests := gh.AllRequests() - before
		if naiveClosed != closedN {
			b.Fatalf("naive loop found %d closed", naiveClosed)
		}
		b.ReportMetric(ours.Seconds(), "prstate-s")
		b.ReportMetric(float64(rep.GitHubRequests), "github-requests")
		b.ReportMetric(float64(naiveRequests), "per-pr-github-requests")
		fmt.Printf("\nsweep of %d PR states, %d closed (in-memory store, fake GitHub over HTTP):\n  %-44s %8.2fs  %6d GitHub requests\n  %-44s %8.2fs  %6d GitHub requests (lookups only, no cleanup)\n",
			states, closedN, "prstate sweep (closed PRs listed in pages)", ours.Seconds(), rep.GitHubRequests,
			"one GET /pulls/N per PR state", naive.Seconds(), naiveRequests)
	}
}
