package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/prstate/prstate/pipeline/storage"
)

// RunBucket runs the bucket conformance suite. newBucket returns a
// versioned bucket for one subtest.
func RunBucket(t *testing.T, newBucket func(t *testing.T) storage.Bucket) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b storage.Bucket, p string)
	}{
		{"Name", bucketName},
		{"GetMissing", bucketGetMissing},
		{"PutGet", bucketPutGet},
		{"EmptyBody", bucketEmptyBody},
		{"Metadata", bucketMetadata},
		{"Encryption", bucketEncryption},
		{"CreateOnly", bucketCreateOnly},
		{"CreateOnlyAfterDelete", bucketCreateOnlyAfterDelete},
		{"IfMatch", bucketIfMatch},
		{"IfMatchAbsent", bucketIfMatchAbsent},
		{"ExclusiveConditions", bucketExclusiveConditions},
		{"Delete", bucketDelete},
		{"DeleteAbsent", bucketDeleteAbsent},
		{"ConditionalDelete", bucketConditionalDelete},
		{"ConditionalDeleteAbsent", bucketConditionalDeleteAbsent},
		{"ListObjects", bucketListObjects},
		{"ListObjectVersions", bucketListObjectVersions},
		{"VersionReads", bucketVersionReads},
		{"DeleteVersionsForGood", bucketDeleteVersionsForGood},
		{"DeleteLatestVersion", bucketDeleteLatestVersion},
		{"DeleteDeleteMarker", bucketDeleteDeleteMarker},
		{"DeleteVersionsEmptyID", bucketDeleteVersionsEmptyID},
		{"ManyVersions", bucketManyVersions},
		{"ConcurrentCreate", bucketConcurrentCreate},
		{"ConcurrentReplace", bucketConcurrentReplace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newBucket(t), prefix(t))
		})
	}
}

func bucketName(t *testing.T, b storage.Bucket, _ string) {
	if b.Name() == "" {
		t.Fatal("Name() is empty")
	}
}

func bucketGetMissing(t *testing.T, b storage.Bucket, p string) {
	_, err := b.GetObject(t.Context(), p+"missing")
	isErr(t, err, storage.ErrNotFound, "GetObject of a missing key")
}

// put writes body to key unconditionally and returns the ETag.
func put(t *testing.T, b storage.Bucket, key, body string) string {
	t.Helper()
	etag, err := b.PutObject(t.Context(), key, []byte(body), storage.PutOptions{})
	noErr(t, err, "PutObject "+key)
	if etag == "" {
		t.Fatalf("PutObject %s returned an empty ETag", key)
	}
	return etag
}

// wantBody checks that key's current body is want and returns the object.
func wantBody(t *testing.T, b storage.Bucket, key, want string) storage.Object {
	t.Helper()
	obj, err := b.GetObject(t.Context(), key)
	noErr(t, err, "GetObject "+key)
	if string(obj.Body) != want {
		t.Fatalf("GetObject %s: body %q, want %q", key, obj.Body, want)
	}
	return obj
}

func bucketPutGet(t *testing.T, b storage.Bucket, p string) {
	key := p + "state/terraform.tfstate"
	etag1 := put(t, b, key, `{"version":4}`)
	obj := wantBody(t, b, key, `{"version":4}`)
	if obj.Key != key || obj.ETag != etag1 || obj.Size != int64(len(`{"version":4}`)) {
		t.Fatalf("GetObject: got key %q etag %s size %d, want %q %s %d", obj.Key, obj.ETag, obj.Size, key, etag1, len(`{"version":4}`))
	}
	if obj.VersionID == "" || obj.LastModified.IsZero() {
		t.Fatalf("GetObject: VersionID %q, LastModified %v: want both set", obj.VersionID, obj.LastModified)
	}
	etag2 := put(t, b, key, `{"version":5}`)
	if etag2 == etag1 {
		t.Fatalf("different bodies got the same ETag %s", etag1)
	}
	obj2 := wantBody(t, b, key, `{"version":5}`)
	if obj2.ETag != etag2 || obj2.VersionID == obj.VersionID {
		t.Fatalf("second put: etag %s version %s; want etag %s and a version other than %s", obj2.ETag, obj2.VersionID, etag2, obj.VersionID)
	}
	if again := put(t, b, key, `{"version":5}`); again != etag2 {
		t.Fatalf("same body, different ETag: %s and %s", again, etag2)
	}
	// The caller's slice is not retained, nor is the returned one shared.
	body := []byte("abc")
	_, err := b.PutObject(t.Context(), p+"copy", body, storage.PutOptions{})
	noErr(t, err, "PutObject copy")
	body[0] = 'X'
	got := wantBody(t, b, p+"copy", "abc")
	got.Body[0] = 'Y'
	wantBody(t, b, p+"copy", "abc")
}

func bucketEmptyBody(t *testing.T, b storage.Bucket, p string) {
	put(t, b, p+"empty", "")
	obj := wantBody(t, b, p+"empty", "")
	if obj.Size != 0 {
		t.Fatalf("empty object has size %d", obj.Size)
	}
}

func bucketMetadata(t *testing.T, b storage.Bucket, p string) {
	key := p + "meta"
	_, err := b.PutObject(t.Context(), key, []byte("x"), storage.PutOptions{
		Metadata: map[string]string{"Prstate-Pr": "42", "holder": "run 7"},
	})
	noErr(t, err, "PutObject with metadata")
	obj := wantBody(t, b, key, "x")
	want := map[string]string{"prstate-pr": "42", "holder": "run 7"}
	if !maps.Equal(obj.Metadata, want) {
		t.Fatalf("metadata %v, want %v", obj.Metadata, want)
	}
	put(t, b, key, "y")
	if obj := wantBody(t, b, key, "y"); len(obj.Metadata) != 0 {
		t.Fatalf("a put without metadata kept %v", obj.Metadata)
	}
}

func bucketCreateOnly(t *testing.T, b storage.Bucket, p string) {
	key := p + "lock"
	etag, err := b.PutObject(t.Context(), key, []byte("first"), storage.PutOptions{IfNoneMatch: true})
	noErr(t, err, "create-only put of a new key")
	_, err = b.PutObject(t.Context(), key, []byte("second"), storage.PutOptions{IfNoneMatch: true})
	isErr(t, err, storage.ErrPrecondition, "create-only put of an existing key")
	if obj := wantBody(t, b, key, "first"); obj.ETag != etag {
		t.Fatalf("etag %s, want %s", obj.ETag, etag)
	}
}

func bucketCreateOnlyAfterDelete(t *testing.T, b storage.Bucket, p string) {
	key := p + "lock"
	put(t, b, key, "old")
	noErr(t, b.DeleteObject(t.Context(), key, ""), "DeleteObject")
	_, err := b.PutObject(t.Context(), key, []byte("new"), storage.PutOptions{IfNoneMatch: true})
	noErr(t, err, "create-only put over a delete marker")
	wantBody(t, b, key, "new")
}

func bucketIfMatch(t *testing.T, b storage.Bucket, p string) {
	key := p + "lock"
	etag1 := put(t, b, key, "one")
	etag2, err := b.PutObject(t.Context(), key, []byte("two"), storage.PutOptions{IfMatch: etag1})
	noErr(t, err, "IfMatch put with the current ETag")
	if etag2 == etag1 {
		t.Fatal("replace kept the ETag")
	}
	_, err = b.PutObject(t.Context(), key, []byte("three"), storage.PutOptions{IfMatch: etag1})
	isErr(t, err, storage.ErrPrecondition, "IfMatch put with a stale ETag")
	wantBody(t, b, key, "two")
	_, err = b.PutObject(t.Context(), key, []byte("three"), storage.PutOptions{IfMatch: etag2, Metadata: map[string]string{"rvn": "3"}})
	noErr(t, err, "IfMatch put with metadata")
	if obj := wantBody(t, b, key, "three"); obj.Metadata["rvn"] != "3" {
		t.Fatalf("metadata %v, want rvn=3", obj.Metadata)
	}
}

func bucketIfMatchAbsent(t *testing.T, b storage.Bucket, p string) {
	etag := put(t, b, p+"other", "x")
	_, err := b.PutObject(t.Context(), p+"absent", []byte("x"), storage.PutOptions{IfMatch: etag})
	isErr(t, err, storage.ErrPrecondition, "IfMatch put of an absent key")
	_, err = b.GetObject(t.Context(), p+"absent")
	isErr(t, err, storage.ErrNotFound, "GetObject after a failed IfMatch put")

	key := p + "deleted"
	etag = put(t, b, key, "x")
	noErr(t, b.DeleteObject(t.Context(), key, ""), "DeleteObject")
	_, err = b.PutObject(t.Context(), key, []byte("y"), storage.PutOptions{IfMatch: etag})
	isErr(t, err, storage.ErrPrecondition, "IfMatch put of a deleted key")
}

func bucketExclusiveConditions(t *testing.T, b storage.Bucket, p string) {
	etag := put(t, b, p+"k", "x")
	_, err := b.PutObject(t.Context(), p+"k", []byte("y"), storage.PutOptions{IfNoneMatch: true, IfMatch: etag})
	if err == nil {
		t.Fatal("PutObject with IfNoneMatch and IfMatch succeeded")
	}
	wantBody(t, b, p+"k", "x")
}

func bucketDelete(t *testing.T, b storage.Bucket, p string) {
	key := p + "state"
	put(t, b, key, "x")
	noErr(t, b.DeleteObject(t.Context(), key, ""), "DeleteObject")
	_, err := b.GetObject(t.Context(), key)
	isErr(t, err, storage.ErrNotFound, "GetObject after DeleteObject")
	objs, err := b.ListObjects(t.Context(), p)
	noErr(t, err, "ListObjects")
	if len(objs) != 0 {
		t.Fatalf("ListObjects lists deleted objects: %v", objs)
	}
	vs, err := b.ListObjectVersions(t.Context(), p)
	noErr(t, err, "ListObjectVersions")
	if len(vs) != 2 {
		t.Fatalf("ListObjectVersions: %d entries, want the version and a delete marker: %+v", len(vs), vs)
	}
	for _, v := range vs {
		if v.DeleteMarker != v.IsLatest {
			t.Fatalf("want the delete marker, and only it, latest: %+v", vs)
		}
	}
}

func bucketDeleteAbsent(t *testing.T, b storage.Bucket, p string) {
	noErr(t, b.DeleteObject(t.Context(), p+"never-written", ""), "unconditional DeleteObject of an absent key")
	_, err := b.GetObject(t.Context(), p+"never-written")
	isErr(t, err, storage.ErrNotFound, "GetObject")
}

func bucketConditionalDelete(t *testing.T, b storage.Bucket, p string) {
	key := p + "lock"
	stale := put(t, b, key, "one")
	etag := put(t, b, key, "two")
	isErr(t, b.DeleteObject(t.Context(), key, stale), storage.ErrPrecondition, "DeleteObject with a stale ETag")
	wantBody(t, b, key, "two")
	noErr(t, b.DeleteObject(t.Context(), key, etag), "DeleteObject with the current ETag")
	_, err := b.GetObject(t.Context(), key)
	isErr(t, err, storage.ErrNotFound, "GetObject after a conditional delete")
}

func bucketConditionalDeleteAbsent(t *testing.T, b storage.Bucket, p string) {
	etag := put(t, b, p+"other", "x")
	isErr(t, b.DeleteObject(t.Context(), p+"absent", etag), storage.ErrNotFound, "conditional DeleteObject of an absent key")
	key := p + "deleted"
	etag = put(t, b, key, "x")
	noErr(t, b.DeleteObject(t.Context(), key, etag), "conditional DeleteObject")
	isErr(t, b.DeleteObject(t.Context(), key, etag), storage.ErrNotFound, "conditional DeleteObject of a deleted key")
}

func bucketListObjects(t *testing.T, b storage.Bucket, p string) {
	keys := []string{"app/terraform.tfstate", "app/pr-1/terraform.tfstate", "app/pr-1/terraform.tfstate.tflock", "app2/terraform.tfstate", "other/x"}
	etags := map[string]string{}
	for i, k := range keys {
		etags[p+k] = put(t, b, p+k, fmt.Sprintf("body %d", i))
	}
	check := func(prefix string, rel ...string) {
		t.Helper()
		var want []string
		for _, k := range rel {
			want = append(want, p+k)
		}
		objs, err := b.ListObjects(t.Context(), p+prefix)
		noErr(t, err, "ListObjects "+prefix)
		var got []string
		for _, o := range objs {
			got = append(got, o.Key)
			if o.Body != nil {
				t.Fatalf("ListObjects returned a body for %s", o.Key)
			}
			if o.ETag != etags[o.Key] || o.Size != int64(len("body 0")) || o.LastModified.IsZero() {
				t.Fatalf("ListObjects: %s has etag %s size %d modified %v; want etag %s size %d", o.Key, o.ETag, o.Size, o.LastModified, etags[o.Key], len("body 0"))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ListObjects %q: got %q, want %q (in key order)", prefix, got, want)
		}
	}
	check("app/", "app/pr-1/terraform.tfstate", "app/pr-1/terraform.tfstate.tflock", "app/terraform.tfstate")
	check("app", "app/pr-1/terraform.tfstate", "app/pr-1/terraform.tfstate.tflock", "app/terraform.tfstate", "app2/terraform.tfstate")
	check("app/pr-1/terraform.tfstate.", "app/pr-1/terraform.tfstate.tflock")
	check("nothing/")
	check("", "app/pr-1/terraform.tfstate", "app/pr-1/terraform.tfstate.tflock", "app/terraform.tfstate", "app2/terraform.tfstate", "other/x")
}

// versionsOf lists the versions under p, failing the test on error.
func versionsOf(t *testing.T, b storage.Bucket, p string) []storage.ObjectVersion {
	t.Helper()
	vs, err := b.ListObjectVersions(t.Context(), p)
	noErr(t, err, "ListObjectVersions "+p)
	return vs
}

func bucketListObjectVersions(t *testing.T, b storage.Bucket, p string) {
	state, lock, other := p+"pr-1/terraform.tfstate", p+"pr-1/terraform.tfstate.tflock", p+"pr-2/terraform.tfstate"
	var ids []string
	for i := range 3 {
		put(t, b, state, fmt.Sprint("state ", i))
		obj := wantBody(t, b, state, fmt.Sprint("state ", i))
		ids = append(ids, obj.VersionID)
	}
	put(t, b, lock, "lock")
	noErr(t, b.DeleteObject(t.Context(), lock, ""), "DeleteObject lock")
	put(t, b, other, "other")

	vs := versionsOf(t, b, p+"pr-1/")
	if len(vs) != 5 {
		t.Fatalf("got %d versions, want 5: %+v", len(vs), vs)
	}
	seen := map[string]bool{}
	latest := map[string]int{}
	var stateIDs []string
	for _, v := range vs {
		if v.VersionID == "" || seen[v.Key+" "+v.VersionID] {
			t.Fatalf("empty or repeated version ID in %+v", vs)
		}
		seen[v.Key+" "+v.VersionID] = true
		if v.IsLatest {
			latest[v.Key]++
		}
		switch v.Key {
		case state:
			stateIDs = append(stateIDs, v.VersionID)
			if v.DeleteMarker || (v.IsLatest != (v.VersionID == ids[2])) || v.Size != int64(len("state 0")) {
				t.Fatalf("state version %+v: want latest only for %s", v, ids[2])
			}
		case lock:
			if v.DeleteMarker != v.IsLatest {
				t.Fatalf("lock: want the delete marker latest: %+v", vs)
			}
		default:
			t.Fatalf("ListObjectVersions %s listed %s", p+"pr-1/", v.Key)
		}
	}
	if latest[state] != 1 || latest[lock] != 1 {
		t.Fatalf("want one latest entry per key: %+v", vs)
	}
	if !slices.Equal(sortedStrings(stateIDs), sortedStrings(ids)) {
		t.Fatalf("state version IDs %v, want %v", stateIDs, ids)
	}
	if i, j := slices.IndexFunc(vs, func(v storage.ObjectVersion) bool { return v.Key == state }),
		slices.IndexFunc(vs, func(v storage.ObjectVersion) bool { return v.Key == lock }); i > j {
		t.Fatalf("versions not in key order: %+v", vs)
	}
	if got := versionsOf(t, b, p+"nothing/"); len(got) != 0 {
		t.Fatalf("ListObjectVersions of an empty prefix: %+v", got)
	}
}

func bucketDeleteVersionsForGood(t *testing.T, b storage.Bucket, p string) {
	key := p + "pr-1/terraform.tfstate"
	put(t, b, key, "a")
	put(t, b, key, "b")
	noErr(t, b.DeleteObject(t.Context(), key, ""), "DeleteObject")
	keep := p + "terraform.tfstate"
	put(t, b, keep, "production")

	vs := versionsOf(t, b, p+"pr-1/")
	if len(vs) != 3 {
		t.Fatalf("got %d versions, want 3", len(vs))
	}
	noErr(t, b.DeleteObjectVersions(t.Context(), vs), "DeleteObjectVersions")
	if got := versionsOf(t, b, p+"pr-1/"); len(got) != 0 {
		t.Fatalf("versions left after DeleteObjectVersions: %+v", got)
	}
	_, err := b.GetObject(t.Context(), key)
	isErr(t, err, storage.ErrNotFound, "GetObject after deleting every version")
	noErr(t, b.DeleteObjectVersions(t.Context(), vs), "DeleteObjectVersions of versions already gone")
	noErr(t, b.DeleteObjectVersions(t.Context(), nil), "DeleteObjectVersions of nothing")
	wantBody(t, b, keep, "production")
	if got := versionsOf(t, b, keep); len(got) != 1 {
		t.Fatalf("versions of the kept key: %+v", got)
	}
}

func bucketDeleteLatestVersion(t *testing.T, b storage.Bucket, p string) {
	key := p + "state"
	put(t, b, key, "old")
	put(t, b, key, "new")
	obj := wantBody(t, b, key, "new")
	noErr(t, b.DeleteObjectVersions(t.Context(), []storage.ObjectVersion{{Key: key, VersionID: obj.VersionID}}), "DeleteObjectVersions latest")
	wantBody(t, b, key, "old")
	vs := versionsOf(t, b, key)
	if len(vs) != 1 || !vs[0].IsLatest {
		t.Fatalf("want the old version alone and latest: %+v", vs)
	}
}

func bucketDeleteDeleteMarker(t *testing.T, b storage.Bucket, p string) {
	key := p + "state"
	put(t, b, key, "x")
	noErr(t, b.DeleteObject(t.Context(), key, ""), "DeleteObject")
	var marker []storage.ObjectVersion
	for _, v := range versionsOf(t, b, key) {
		if v.DeleteMarker {
			marker = append(marker, v)
		}
	}
	if len(marker) != 1 {
		t.Fatalf("want one delete marker, got %+v", marker)
	}
	noErr(t, b.DeleteObjectVersions(t.Context(), marker), "DeleteObjectVersions of the delete marker")
	wantBody(t, b, key, "x")
}

func bucketDeleteVersionsEmptyID(t *testing.T, b storage.Bucket, p string) {
	key := p + "state"
	put(t, b, key, "x")
	err := b.DeleteObjectVersions(t.Context(), []storage.ObjectVersion{{Key: key}})
	if err == nil {
		t.Fatal("DeleteObjectVersions accepted an empty version ID")
	}
	wantBody(t, b, key, "x")
	if vs := versionsOf(t, b, key); len(vs) != 1 {
		t.Fatalf("an empty version ID changed the versions: %+v", vs)
	}
}

// bucketManyVersions crosses the 1000-entry page of S3 listings and the
// 1000-key limit of DeleteObjects.
func bucketManyVersions(t *testing.T, b storage.Bucket, p string) {
	const keys, markers = 1010, 7
	errs := Race(8, func(w int) error {
		for i := w; i < keys; i += 8 {
			key := fmt.Sprintf("%sk/%04d", p, i)
			if _, err := b.PutObject(t.Context(), key, []byte{byte(i)}, storage.PutOptions{}); err != nil {
				return err
			}
			if i < markers {
				if err := b.DeleteObject(t.Context(), key, ""); err != nil {
					return err
				}
			}
		}
		return nil
	})
	noErr(t, errors.Join(errs...), "writing versions")
	objs, err := b.ListObjects(t.Context(), p+"k/")
	noErr(t, err, "ListObjects")
	if len(objs) != keys-markers {
		t.Fatalf("ListObjects: %d objects, want %d", len(objs), keys-markers)
	}
	if !slices.IsSortedFunc(objs, func(a, b storage.Object) int { return bytes.Compare([]byte(a.Key), []byte(b.Key)) }) {
		t.Fatal("ListObjects across pages is not in key order")
	}
	vs := versionsOf(t, b, p+"k/")
	if len(vs) != keys+markers {
		t.Fatalf("ListObjectVersions: %d entries, want %d", len(vs), keys+markers)
	}
	noErr(t, b.DeleteObjectVersions(t.Context(), vs), "DeleteObjectVersions")
	if left := versionsOf(t, b, p+"k/"); len(left) != 0 {
		t.Fatalf("%d versions left after DeleteObjectVersions", len(left))
	}
}

func bucketConcurrentCreate(t *testing.T, b storage.Bucket, p string) {
	key := p + "apply.lock"
	errs := Race(concurrency, func(i int) error {
		_, err := b.PutObject(t.Context(), key, []byte(fmt.Sprint("holder ", i)), storage.PutOptions{IfNoneMatch: true})
		return err
	})
	w := OneWinner(t, errs, storage.ErrPrecondition)
	wantBody(t, b, key, fmt.Sprint("holder ", w))
}

func bucketConcurrentReplace(t *testing.T, b storage.Bucket, p string) {
	key := p + "apply.lock"
	etag := put(t, b, key, "holder")
	errs := Race(concurrency, func(i int) error {
		_, err := b.PutObject(t.Context(), key, []byte(fmt.Sprint("taker ", i)), storage.PutOptions{IfMatch: etag})
		return err
	})
	w := OneWinner(t, errs, storage.ErrPrecondition)
	wantBody(t, b, key, fmt.Sprint("taker ", w))
}
