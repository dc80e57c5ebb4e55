package testenv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// TestFaultProxy: a dropped response was still applied by the server;
// injected errors never reach it.
func TestFaultProxy(t *testing.T) {
	m := Moto(t)
	name := m.NewBucket(t, false)
	client := func(f Faults) (storage.Bucket, *FaultProxy) {
		p := NewFaultProxy(t, m.Endpoint, f)
		cfg := m.Config()
		cfg.BaseEndpoint = aws.String(p.URL)
		cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
		return awsstore.NewBucket(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), name), p
	}
	dropping, p := client(Faults{Drop: 1})
	if _, err := dropping.PutObject(t.Context(), "dropped", []byte("x"), storage.PutOptions{IfNoneMatch: true}); err == nil {
		t.Fatal("PutObject through a dropping proxy succeeded")
	}
	if obj, err := m.Bucket(t, name).GetObject(t.Context(), "dropped"); err != nil || string(obj.Body) != "x" {
		t.Fatalf("the dropped write was not applied: %v", err)
	}
	if c := p.Counts(); c.Requests != 1 || c.Dropped != 1 {
		t.Fatalf("counts %+v", c)
	}
	for _, f := range []Faults{{Error500: 1}, {Throttle: 1}} {
		failing, _ := client(f)
		_, err := failing.PutObject(t.Context(), "never", []byte("x"), storage.PutOptions{})
		if err == nil || errors.Is(err, storage.ErrPrecondition) {
			t.Fatalf("%+v: got %v", f, err)
		}
	}
	if _, err := m.Bucket(t, name).GetObject(t.Context(), "never"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an injected error reached the server: %v", err)
	}
	delaying, p := client(Faults{Delay: 1})
	if _, err := delaying.PutObject(t.Context(), "late", []byte("x"), storage.PutOptions{}); err != nil || p.Counts().Delayed != 1 {
		t.Fatalf("delayed put: %v %+v", err, p.Counts())
	}
}

// TestFaultProxyStall: a stalled proxy answers nothing and forwards
// nothing until the client gives up; after Resume it forwards again.
func TestFaultProxyStall(t *testing.T) {
	m := Moto(t)
	name := m.NewBucket(t, false)
	p := NewFaultProxy(t, m.Endpoint, Faults{})
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(p.URL)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	b := awsstore.NewBucket(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), name)
	p.Stall()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := b.PutObject(ctx, "stalled", []byte("x"), storage.PutOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put through a stalled proxy: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the stalled put returned after %s", d)
	}
	if _, err := m.Bucket(t, name).GetObject(t.Context(), "stalled"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a stalled write reached the server: %v", err)
	}
	p.Resume()
	if _, err := b.PutObject(t.Context(), "resumed", []byte("x"), storage.PutOptions{}); err != nil {
		t.Fatalf("put after Resume: %v", err)
	}
	if c := p.Counts(); c.Stalled != 1 {
		t.Fatalf("counts %+v", c)
	}
}
