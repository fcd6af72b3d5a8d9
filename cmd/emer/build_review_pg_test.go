package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/config"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
)

// TestBuildReviewPostgresErrors checks the errors of emer build review
// on a PostgreSQL store.
func TestBuildReviewPostgresErrors(t *testing.T) {
	dir := t.TempDir()
	db := pgtest.New(t).NewDatabase(t)
	pg := config.Store{Driver: config.DriverPostgres, URL: db}
	for _, tc := range []struct {
		name  string
		opts  buildReviewOptions
		want  string
		usage bool
	}{
		{"run without a shared store", buildReviewOptions{DB: "x.db", Run: "r", Export: "a"}, "--run is for a postgres:// store", true},
		{"no run", buildReviewOptions{Store: pg, Export: filepath.Join(dir, "a.csv")},
			"--run NAME is required with a postgres:// store: the run of emer build summarize (summarize:/ABSOLUTE/OUT, its --run NAME, or its folder OUT); " +
				pgstore.Redact(db) + " holds the review of no run", true},
		{"unknown run", buildReviewOptions{Store: pg, Run: "nightly", Export: filepath.Join(dir, "a.csv")}, "--run nightly: no descriptions of that run are in review", false},
		{"unknown run import", buildReviewOptions{Store: pg, Run: "nightly", Import: filepath.Join("testdata", "summarize", "want", "review.csv")},
			"--run nightly: no descriptions of that run are in review", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stdout, tc.opts.Stderr = io.Discard, io.Discard
			err := runBuildReview(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, errUsage) != tc.usage {
				t.Errorf("err = %v, want %q (usage %v)", err, tc.want, tc.usage)
			}
		})
	}
	// EMER_STORE names the store; --db wins over it.
	clearConfigEnv(t)
	t.Setenv("EMER_STORE", db)
	var stderr bytes.Buffer
	if code := execute(context.Background(), []string{"build", "review", "--run", "nightly", "--export", filepath.Join(dir, "a.csv")}, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "--run nightly: no descriptions of that run are in review") {
		t.Errorf("with EMER_STORE: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	gone := filepath.Join(dir, "gone.db")
	if code := execute(context.Background(), []string{"build", "review", "--db", gone, "--export", filepath.Join(dir, "a.csv")}, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "--db: stat "+gone) {
		t.Errorf("--db with EMER_STORE: exit %d, stderr %q", code, stderr.String())
	}
}
