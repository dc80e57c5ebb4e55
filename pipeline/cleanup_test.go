package pipeline_test

import (
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

func TestCleanupScenarios(t *testing.T) {
	t.Parallel()
	cleanuptest.Run(t, func(t *testing.T, versioned bool) cleanuptest.Store {
		// memstore is always versioned; the unversioned scenario still
		// holds there (older versions are just more to compare).
		return cleanuptest.Store{Bucket: memstore.NewBucket("acme-state"), Table: memstore.NewTable("tf-locks")}
	})
}
