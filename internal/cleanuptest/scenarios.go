// Package cleanuptest holds the cleanup scenarios every store runs: the
// in-memory fake (pipeline's unit tests) and moto (this package's tests),
// plus the moto, terraform and benchmark tests of cleanup and sweep.
package cleanuptest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// Store is a fresh bucket and lock table to run a scenario in.
type Store struct {
	Bucket storage.Bucket
	Table  storage.Table
}

// NewStore makes a fresh Store; versioned picks a versioned bucket.
type NewStore func(t *testing.T, versioned bool) Store

const (
	// Prod is the production key every scenario uses.
	Prod = "app/terraform.tfstate"
	// Lineage is production's lineage.
	Lineage = "5f0d3c2e-prod-lineage"
)

// StateJSON is a Terraform state with the given managed resources (type.name).
func StateJSON(serial int, lineage string, resources ...string) []byte {
	var rs []string
	for _, r := range resources {
		typ, name, _ := strings.Cut(r, ".")
		rs = append(rs, `{"mode":"managed","type":"`+typ+`","name":"`+name+`","provider":"provider[\"terraform.io/builtin/terraform\"]","instances":[]}`)
	}
	return []byte(fmt.Sprintf(`{"version":4,"terraform_version":"1.11.4","serial":%d,"lineage":"%s","outputs":{},"resources":[%s],"check_results":null}`,
		serial, lineage, strings.Join(rs, ",")))
}

// Stack is the stack of a scenario: production key Prod in s's bucket.
func Stack(t testing.TB, s Store, lockfile, table, workspace bool) statekey.Stack {
	t.Helper()
	var keys statekey.Keys
	var err error
	if workspace {
		keys, err = statekey.NewWorkspaceKeys(Prod, "")
	} else {
		keys, err = statekey.NewKeys(Prod, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	b := backend.Backend{Bucket: s.Bucket.Name(), Key: Prod, UseLockfile: lockfile}
	if table {
		b.DynamoDBTable = s.Table.Name()
	}
	return statekey.Stack{Dir: "/work/app", Backend: b, Keys: keys}
}

// CleanupStore is s as cleanup sees it (no table unless the stack has one).
func CleanupStore(st statekey.Stack, s Store) cleanup.Store {
	cs := cleanup.Store{Bucket: s.Bucket}
	if st.Backend.DynamoDBTable != "" {
		cs.Table = s.Table
	}
	return cs
}

// Put writes key like Terraform does (no metadata) and its digest.
func Put(t testing.TB, s Store, key string, body []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Bucket.PutObject(ctx, key, body, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if s.Table != nil {
		if err := s.Table.PutItem(ctx, storage.Item{storage.KeyAttr: statekey.DigestID(s.Bucket.Name(), key), "Digest": tfstate.MD5Hex(body)}, storage.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TerraformLockCycle leaves what one locked terraform run leaves in the
// bucket with use_lockfile: a .tflock version and a delete marker.
func TerraformLockCycle(t testing.TB, s Store, key string) {
	t.Helper()
	ctx := context.Background()
	info := applylock.LockInfo{ID: applylock.NewLockID(), Operation: "OperationTypePlan", Who: "runner@host", Version: "1.11.4", Created: time.Now().UTC(), Path: s.Bucket.Name() + "/" + key}
	if _, err := s.Bucket.PutObject(ctx, key+".tflock", info.Marshal(), storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Bucket.DeleteObject(ctx, key+".tflock", ""); err != nil {
		t.Fatal(err)
	}
}

// Production gives s a production state with a digest, a held apply lock
// and a held Terraform lock, so scenarios can check none of it is touched.
func Production(t testing.TB, s Store) {
	t.Helper()
	ctx := context.Background()
	Put(t, s, Prod, StateJSON(3, Lineage, "terraform_data.a"))
	Put(t, s, Prod, StateJSON(4, Lineage, "terraform_data.a", "terraform_data.b"))
	TerraformLockCycle(t, s, Prod)
	info := applylock.LockInfo{ID: applylock.NewLockID(), Operation: "OperationTypeApply", Who: "main@ci", Created: time.Now().UTC()}
	if _, err := s.Bucket.PutObject(ctx, Prod+".tflock", info.Marshal(), storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bucket.PutObject(ctx, Prod+".prstate-apply.lock", []byte(`{"holder":"x"}`), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if s.Table != nil {
		for _, id := range []string{statekey.LockItemID(s.Bucket.Name(), Prod), s.Bucket.Name() + "/" + Prod + ".prstate-apply"} {
			if err := s.Table.PutItem(ctx, storage.Item{storage.KeyAttr: id, "Info": string(info.Marshal())}, storage.Condition{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// SeededPR seeds PR pr from production (as `prstate plan --seed production`
// does), then lets terraform lock it writes times.
func SeededPR(t testing.TB, s Store, st statekey.Stack, pr, writes int) string {
	t.Helper()
	key, err := st.Keys.Render(pr)
	if err != nil {
		t.Fatal(err)
	}
	var table storage.ItemReadWriter
	if s.Table != nil {
		table = s.Table
	}
	if _, err := plan.Seed(context.Background(), clock.Real, s.Bucket, table, Prod, key); err != nil {
		t.Fatal(err)
	}
	for i := range writes {
		TerraformLockCycle(t, s, key)
		Put(t, s, key, StateJSON(5+i, Lineage, "terraform_data.a", "terraform_data.b"))
	}
	return key
}

// Snapshot is everything in a store, bodies and metadata included.
type Snapshot map[string]string

// Take records every version (with body and metadata) and every item.
func Take(t testing.TB, s Store) Snapshot {
	t.Helper()
	ctx := context.Background()
	snap := Snapshot{}
	vs, err := s.Bucket.ListObjectVersions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		desc := fmt.Sprintf("marker=%v latest=%v size=%d", v.DeleteMarker, v.IsLatest, v.Size)
		if !v.DeleteMarker {
			obj, err := s.Bucket.GetObjectVersion(ctx, v.Key, v.VersionID)
			if err != nil {
				t.Fatal(err)
			}
			desc += fmt.Sprintf(" etag=%s meta=%v body=%s", obj.ETag, obj.Metadata, obj.Body)
		}
		snap["s3:"+v.Key+"@"+v.VersionID] = desc
	}
	if s.Table != nil {
		items, err := s.Table.ScanItems(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			snap["ddb:"+it[storage.KeyAttr]] = fmt.Sprint(map[string]string(it))
		}
	}
	return snap
}

// Without drops the entries of names (objects: any version of the exact
// key and of its seed record; items: the exact LockID and its digest).
func (s Snapshot) Without(bucket string, keys ...string) Snapshot {
	out := Snapshot{}
	drop := map[string]bool{}
	for _, k := range keys {
		drop["s3:"+k] = true
		drop["s3:"+statekey.SeedRecordKey(k)] = true
		drop["ddb:"+bucket+"/"+k] = true
		drop["ddb:"+bucket+"/"+k+"-md5"] = true
	}
	for k, v := range s {
		base := k
		if strings.HasPrefix(k, "s3:") {
			base = k[:strings.LastIndex(k, "@")]
		}
		if !drop[base] {
			out[k] = v
		}
	}
	return out
}

// Diff lists what differs between two snapshots.
func Diff(want, got Snapshot) []string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+k)
		} else if g != v {
			out = append(out, "changed "+k+": "+v+" -> "+g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+k)
		}
	}
	sort.Strings(out)
	return out
}

// FlakyBucket fails the next N DeleteObjectVersions calls after deleting
// half of what they were given: a connection lost part-way.
type FlakyBucket struct {
	storage.Bucket
	Failures atomic.Int32
}

// DeleteObjectVersions deletes the first half, then fails while Failures > 0.
func (f *FlakyBucket) DeleteObjectVersions(ctx context.Context, vs []storage.ObjectVersion) error {
	if f.Failures.Add(-1) >= 0 {
		if err := f.Bucket.DeleteObjectVersions(ctx, vs[:len(vs)/2]); err != nil {
			return err
		}
		return errors.New("connection reset by peer")
	}
	return f.Bucket.DeleteObjectVersions(ctx, vs)
}
