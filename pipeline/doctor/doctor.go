// Package doctor checks, for each stack and the credentials at hand,
// what prstate relies on: the bucket and its region, versioning and a
// lifecycle rule for noncurrent versions, conditional writes, the lock
// table's key, the permissions of a job, and the clock. Each check is one
// Row with OK, WARN or FAIL and the fix.
//
// Doctor writes only a scratch object under the stack's prefix
// (<dir>/.prstate-doctor/<random>, every version removed afterwards) and
// conditional writes designed to fail without effect. It never modifies
// a production object.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// Status is a check's verdict.
type Status int

// The verdicts, from best to worst.
const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return "OK"
}

// MarshalText makes a Status "OK", "WARN" or "FAIL" in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Row is one check.
type Row struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Setting is one resolved backend setting and where it came from.
type Setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Target is one stack to check, with the stores to check it on.
type Target struct {
	Label       string // the stack as people know it (its directory)
	Stack       statekey.Stack
	LockBackend string // dynamodb | s3: where the apply lock lives
	Settings    []Setting
	Bucket      storage.Bucket
	Table       storage.Table // nil without a dynamodb-table
	Identity    Identity      // nil: a store without an AWS identity (memstore)
}

// Options are what every target is checked with.
type Options struct {
	Job  iam.Job // "" checks no permissions
	PR   int     // the pull request whose keys probes use (0: a probe number)
	Seed bool
	Now  func() time.Time
	// Scratch is the scratch object's last segment (default: random).
	Scratch string
}

// StackReport is the result of one target.
type StackReport struct {
	Stack    string    `json:"stack"`
	Bucket   string    `json:"bucket"`
	Key      string    `json:"key"`
	Settings []Setting `json:"settings"`
	Rows     []Row     `json:"rows"`
}

// Report is the result of every target.
type Report struct {
	Job    iam.Job       `json:"job,omitempty"`
	Stacks []StackReport `json:"stacks"`
	// Repository holds the GitHub checks (CheckRepository): the OIDC
	// subject customization and the role's environment.
	Repository []Row `json:"repository,omitempty"`
}

// Count returns how many rows have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, st := range r.Stacks {
		for _, row := range st.Rows {
			if row.Status == s {
				n++
			}
		}
	}
	for _, row := range r.Repository {
		if row.Status == s {
			n++
		}
	}
	return n
}

// Failed tells whether any check failed.
func (r Report) Failed() bool { return r.Count(Fail) > 0 }

// MarshalJSON adds "ok".
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		OK bool `json:"ok"`
		plain
	}{!r.Failed(), plain(r)})
}

// Run checks every target in turn.
func Run(ctx context.Context, targets []Target, o Options) (Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Job != "" {
		if _, err := iam.ParseJob(string(o.Job)); err != nil {
			return Report{}, err
		}
	}
	rep := Report{Job: o.Job}
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("doctor interrupted: %w", err)
		}
		rep.Stacks = append(rep.Stacks, check(ctx, t, o))
	}
	return rep, nil
}

// check runs every check of one target.
func check(ctx context.Context, t Target, o Options) StackReport {
	c := &checker{t: t, o: o, b: t.Stack.Backend}
	c.insp, _ = t.Bucket.(BucketInspector)
	c.credentials(ctx)
	if !c.stop {
		c.identity(ctx)
	}
	if c.stop {
		return StackReport{Stack: t.Label, Bucket: c.b.Bucket, Key: c.b.Key, Settings: t.Settings, Rows: c.rows}
	}
	c.bucket(ctx)
	c.versioning(ctx)
	c.lifecycle(ctx)
	c.table(ctx)
	c.conditionalWrites(ctx)
	c.permissions(ctx)
	return StackReport{Stack: t.Label, Bucket: c.b.Bucket, Key: c.b.Key, Settings: t.Settings, Rows: c.rows}
}

// checker gathers one target's rows.
type checker struct {
	t    Target
	o    Options
	b    backend.Backend
	insp BucketInspector
	rows []Row
	cond conditionResult

	stop             bool // no credentials or region: nothing else can run
	noBucket         bool // the bucket is missing or unreachable: its checks are skipped
	noTable          bool // likewise the table
	versioningStatus storage.Versioning
}

func (c *checker) add(check string, s Status, detail, fix string) {
	c.rows = append(c.rows, Row{Check: check, Status: s, Detail: detail, Fix: fix})
}
