package dataset_test

import (
	"testing"

	"emer/internal/dataset"
	"emer/internal/dataset/reviewtest"
)

func TestReviewMemoryContract(t *testing.T) {
	reviewtest.Run(t, func(t *testing.T) dataset.ReviewStore { return dataset.NewReviewMemory() })
}
