package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/study"
)

// TestReportStudyPostgres reads the rating study of emer report from a
// PostgreSQL store, picked by name among two.
func TestReportStudyPostgres(t *testing.T) {
	clearConfigEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	writeEvalFolder(t, good, "release", "x")
	db := pgtest.New(t).NewDatabase(t)
	s, err := pgstore.Open(ctx, db, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := study.NewService(s.Studies(), 0, nil)
	for _, n := range []string{"pilot", "main"} {
		d := study.Draft{Name: n, Target: 1, Seed: 1}
		for _, c := range []string{"c1", "c2"} {
			d.Clips = append(d.Clips, study.DraftClip{Name: c, Candidates: []study.DraftCandidate{
				{Source: study.GroundTruth, Text: "truth of " + c}, {Source: "x", Text: "x on " + c}}})
		}
		if _, err := svc.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	out := filepath.Join(dir, "report.html")
	var stderr bytes.Buffer
	code := execute(ctx, []string{"report", "--eval", good, "--store", db, "--clips", "0", "--out", out}, io.Discard, &stderr)
	if want := pgstore.Redact(db) + ` holds 2 rating studies (1 "pilot", 2 "main"): pick one with --study ID or NAME`; code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("two studies: exit %d, stderr %q; want 1 and %q", code, stderr.String(), want)
	}
	stderr.Reset()
	code = execute(ctx, []string{"report", "--eval", good, "--store", db, "--study", "main", "--clips", "0", "--out", out}, io.Discard, &stderr)
	// Without a store the folder's samples cannot meet the raters.
	if want := good + ": stat " + filepath.Join(good, "emer.db"); code != 1 || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %d; stderr:\n%s\nwant it to hold %q", code, stderr.String(), want)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("Rating study <strong>main</strong>")) {
		t.Error("the report is not of study main")
	}
	stderr.Reset()
	if code := execute(ctx, []string{"report", "--eval", good, "--store", db, "--db", "x.db", "--out", out}, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "give --db FILE or --store, not both") {
		t.Errorf("--db and --store: exit %d, stderr %q", code, stderr.String())
	}
}
