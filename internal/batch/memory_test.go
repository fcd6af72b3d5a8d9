package batch_test

import (
	"testing"

	"emer/internal/batch"
	"emer/internal/batch/batchtest"
)

func TestMemoryLedger(t *testing.T) {
	batchtest.Ledger(t, func(*testing.T) batch.Ledger { return batch.NewMemory() })
}
