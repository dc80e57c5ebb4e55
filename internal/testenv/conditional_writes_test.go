package testenv

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// conditionalSemantics is what one server does with S3's conditional
// requests. On S3 every answer is "refused" (412) and every race has
// exactly one winner.
type conditionalSemantics struct {
	// DeleteWrongIfMatchRemoves: DeleteObject with an If-Match that does
	// not match the object's ETag still deletes it (S3 answers 412).
	DeleteWrongIfMatchRemoves bool
	// RacesAtomic: of concurrent conditional PutObjects of one key, exactly
	// one succeeds (asserted; otherwise at least one).
	RacesAtomic bool
}

// conditionalWant is what each server was measured to do. Both refuse a
// PutObject whose If-None-Match: * or If-Match does not hold with 412, and
// an If-Match on a missing key with 404, as S3 does.
var conditionalWant = map[string]conditionalSemantics{
	// moto refuses a DeleteObject whose If-Match does not hold (412, the
	// object stays), as S3 does. It checks a condition and then writes
	// without a lock (see Faults.Serialize): its races usually have one
	// winner but are not asserted.
	"moto": {DeleteWrongIfMatchRemoves: false, RacesAtomic: false},
	// MinIO ignores If-Match on DeleteObject: it answers 204 and deletes
	// (a delete marker, in a versioned bucket). prstate must never rely on
	// a conditional delete there. Its conditional PutObjects are atomic.
	"minio": {DeleteWrongIfMatchRemoves: true, RacesAtomic: true},
}

// TestConditionalWrites proves MinIO and moto work through the harness and
// records what each does with conditional writes, the primitive prstate's
// locks are built on.
func TestConditionalWrites(t *testing.T) {
	for _, f := range S3Flavors() {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			srv := f.Start(t)
			want := conditionalWant[f.Name]
			c := srv.S3()
			bucket := srv.NewBucket(t, true)
			ctx := t.Context()
			put := func(key, body string, opt func(*s3.PutObjectInput)) (*s3.PutObjectOutput, error) {
				in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}
				if opt != nil {
					opt(in)
				}
				return c.PutObject(ctx, in)
			}
			ifNoneMatch := func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
			ifMatch := func(etag string) func(*s3.PutObjectInput) {
				return func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) }
			}
			body := func(key string) (string, int) {
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					return "", httpStatus(err)
				}
				defer out.Body.Close()
				b, err := io.ReadAll(out.Body)
				if err != nil {
					t.Fatal(err)
				}
				return string(b), 200
			}

			t.Run("PutIfNoneMatch", func(t *testing.T) {
				if _, err := put("inm", "v1", ifNoneMatch); err != nil {
					t.Fatalf("If-None-Match: * on a new key: %v", err)
				}
				if _, err := put("inm", "v2", ifNoneMatch); httpStatus(err) != 412 {
					t.Fatalf("If-None-Match: * on an existing key: %v (status %d), want 412", err, httpStatus(err))
				}
				if got, _ := body("inm"); got != "v1" {
					t.Fatalf("after the refused write the object is %q, want v1", got)
				}
				// A delete marker is no object: the key can be created again.
				if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("inm")}); err != nil {
					t.Fatal(err)
				}
				if _, err := put("inm", "v3", ifNoneMatch); err != nil {
					t.Fatalf("If-None-Match: * over a delete marker: %v", err)
				}
			})

			t.Run("PutIfMatch", func(t *testing.T) {
				v1, err := put("im", "v1", nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := put("im", "v2", ifMatch(`"0123456789abcdef0123456789abcdef"`)); httpStatus(err) != 412 {
					t.Fatalf("If-Match with a wrong ETag: %v (status %d), want 412", err, httpStatus(err))
				}
				if got, _ := body("im"); got != "v1" {
					t.Fatalf("after the refused write the object is %q, want v1", got)
				}
				if _, err := put("im", "v2", ifMatch(aws.ToString(v1.ETag))); err != nil {
					t.Fatalf("If-Match with the current ETag: %v", err)
				}
				if got, _ := body("im"); got != "v2" {
					t.Fatalf("after the matching write the object is %q, want v2", got)
				}
				if _, err := put("im-missing", "v1", ifMatch(aws.ToString(v1.ETag))); httpStatus(err) != 404 {
					t.Fatalf("If-Match on a missing key: %v (status %d), want 404 (as S3)", err, httpStatus(err))
				}
			})

			t.Run("DeleteIfMatch", func(t *testing.T) {
				v1, err := put("dm", "v1", nil)
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{
					Bucket: aws.String(bucket), Key: aws.String("dm"),
					IfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`),
				})
				_, status := body("dm")
				t.Logf("DeleteObject with a wrong If-Match: %v (status %d); then GetObject: %d", err, httpStatus(err), status)
				removed := status == 404
				if removed != want.DeleteWrongIfMatchRemoves {
					t.Fatalf("DeleteObject with a wrong If-Match removed the object: %v, want %v", removed, want.DeleteWrongIfMatchRemoves)
				}
				if !removed && httpStatus(err) != 412 {
					t.Fatalf("DeleteObject with a wrong If-Match kept the object but answered %v (status %d), want 412", err, httpStatus(err))
				}
				if removed {
					if err != nil {
						t.Fatalf("DeleteObject with a wrong If-Match removed the object and failed: %v", err)
					}
					// In a versioned bucket it is a delete marker: the
					// version is still there.
					out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dm"), VersionId: v1.VersionId})
					if err != nil {
						t.Fatalf("the version the delete hid: %v", err)
					}
					out.Body.Close()
				}
				if !removed {
					if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{
						Bucket: aws.String(bucket), Key: aws.String("dm"), IfMatch: v1.ETag,
					}); err != nil {
						t.Fatalf("DeleteObject with the current If-Match: %v", err)
					}
					if _, status := body("dm"); status != 404 {
						t.Fatalf("after DeleteObject with the current If-Match, GetObject: %d, want 404", status)
					}
				}
			})

			// Races: no SDK retries, so each request's own answer counts.
			raw := s3.NewFromConfig(srv.Config(), func(o *s3.Options) {
				o.UsePathStyle = true
				o.Retryer = aws.NopRetryer{}
			})
			race := func(t *testing.T, key string, opt func(i int, in *s3.PutObjectInput)) (wins int, statuses map[int]int) {
				const n = 16
				var wg sync.WaitGroup
				var mu sync.Mutex
				statuses = map[int]int{}
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(fmt.Sprintf("writer %d", i))}
						opt(i, in)
						<-start
						_, err := raw.PutObject(ctx, in)
						mu.Lock()
						defer mu.Unlock()
						if err == nil {
							wins++
							statuses[200]++
						} else {
							statuses[httpStatus(err)]++
						}
					})
				}
				close(start)
				wg.Wait()
				return wins, statuses
			}
			check := func(t *testing.T, what string, wins int, statuses map[int]int) {
				t.Logf("%s, 16 concurrent writers: %d won; answers by status: %v", what, wins, statuses)
				if wins == 0 {
					t.Fatalf("%s: no writer won", what)
				}
				if want.RacesAtomic && wins != 1 {
					t.Fatalf("%s: %d writers won, want exactly 1", what, wins)
				}
				for s, n := range statuses {
					if s != 200 && s != 412 && s != 409 {
						t.Fatalf("%s: %d answers with status %d", what, n, s)
					}
				}
			}

			t.Run("RaceIfNoneMatch", func(t *testing.T) {
				for round := range 5 {
					key := fmt.Sprintf("race-inm-%d", round)
					wins, statuses := race(t, key, func(_ int, in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
					check(t, "If-None-Match: *", wins, statuses)
				}
			})

			t.Run("RaceIfMatch", func(t *testing.T) {
				for round := range 5 {
					key := fmt.Sprintf("race-im-%d", round)
					v0, err := put(key, "v0", nil)
					if err != nil {
						t.Fatal(err)
					}
					wins, statuses := race(t, key, func(_ int, in *s3.PutObjectInput) { in.IfMatch = v0.ETag })
					check(t, "If-Match: current ETag", wins, statuses)
				}
			})
		})
	}
}

// httpStatus is the HTTP status of an SDK error, 0 when it has none.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
