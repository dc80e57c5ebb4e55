package awsstore_test

import (
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/storagetest"
)

func TestBucket(t *testing.T) {
	m := testenv.Moto(t)
	storagetest.RunBucket(t, func(t *testing.T) storage.Bucket {
		return m.Bucket(t, m.NewBucket(t, true))
	})
}

func TestTable(t *testing.T) {
	m := testenv.Moto(t)
	storagetest.RunTable(t, func(t *testing.T) storage.Table {
		return m.Table(t, m.NewTable(t))
	})
}
