// Package storagetest is the conformance suite every storage.Bucket and
// storage.Table implementation passes: the in-memory fake (memstore) and
// the AWS adapters (awsstore, run against moto). It pins down the S3 and
// DynamoDB semantics prstate relies on, conditional writes above all.
//
// Subtests run in parallel and each works under a key prefix of its own,
// so the constructors may return fresh or shared resources alike; they
// must not call t.Setenv.
package storagetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// concurrency is how many goroutines race for one conditional write.
const concurrency = 16

var unsafeChars = regexp.MustCompile(`[^a-z0-9-]+`)

// prefix returns a key prefix unique to t, ending in "/".
func prefix(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := t.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(name), "-"), "-")
	return fmt.Sprintf("storagetest-%s-%s/", name, hex.EncodeToString(b[:]))
}

// noErr fails the test now when err is not nil.
func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// isErr fails the test now unless errors.Is(err, want).
func isErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// Race runs fn(i) for i in [0, n) at once and returns the errors by i.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// OneWinner checks that exactly one error is nil and every other one is
// want, and returns the winner's index.
func OneWinner(t *testing.T, errs []error, want error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("goroutines %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, want):
			t.Fatalf("goroutine %d: got error %v, want %v", i, err, want)
		}
	}
	if winner < 0 {
		t.Fatalf("no goroutine won")
	}
	return winner
}

// sortedStrings returns s sorted, for order-insensitive comparisons.
func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
