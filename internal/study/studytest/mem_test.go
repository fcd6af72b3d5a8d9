package studytest

import (
	"testing"

	"emer/internal/study"
)

func TestMem(t *testing.T) {
	Run(t, func(*testing.T) study.Store { return NewMem() })
}
