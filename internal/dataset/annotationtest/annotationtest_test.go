package annotationtest_test

import (
	"testing"

	"emer/internal/dataset"
	"emer/internal/dataset/annotationtest"
)

func TestMemoryContract(t *testing.T) {
	annotationtest.Run(t, func(t *testing.T) dataset.Store { return dataset.NewMemory() })
}
