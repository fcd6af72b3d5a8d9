//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"emer/internal/batch"
	"emer/internal/infer"
	"emer/internal/llm/llmtest"
	"emer/internal/sharedtest"
	"emer/internal/store"
	"emer/internal/table"
)

var (
	emerBinOnce sync.Once
	emerBin     string
	emerBinErr  error
)

// testBinary builds the emer binary once per test process.
func testBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the emer binary")
	}
	emerBinOnce.Do(func() {
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		dir, err := os.MkdirTemp("", "emer-bin-")
		if err != nil {
			emerBinErr = err
			return
		}
		emerBin = filepath.Join(dir, "emer")
		if out, err := exec.Command(goTool, "build", "-o", emerBin, ".").CombinedOutput(); err != nil {
			emerBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if emerBinErr != nil {
		t.Fatal(emerBinErr)
	}
	return emerBin
}

// batchClips makes a dataset of 20 clips: 16 good ones (a face and speech),
// three broken files and one name without media.
func batchClips(t *testing.T, dir string) (dataset, media string, good []string) {
	t.Helper()
	needFFmpeg(t, "espeak-ng")
	face := testFace(t, dir)
	speech := testSpeech(t, dir, "speech", "This is wonderful news.")
	base := filepath.Join(dir, "base.mp4")
	testClip(t, base, face, speech, 2)
	b, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	media = filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	subs := []string{"I am so happy today.", "This is terrible, I hate it.", "I am afraid of what comes next.", "What a wonderful surprise!"}
	var csv strings.Builder
	csv.WriteString("names,subtitles\n")
	for i := 1; i <= 20; i++ {
		name := fmt.Sprintf("c%02d", i)
		fmt.Fprintf(&csv, "%s,%q\n", name, subs[i%len(subs)])
		var data []byte
		switch {
		case i <= 16:
			data, good = b, append(good, name)
		case i == 17:
			data = nil // zero bytes
		case i == 18:
			data = []byte("this is not a video\n")
		case i == 19:
			data = b[:len(b)/3] // cut short
		default:
			continue // c20: no media at all
		}
		if err := os.WriteFile(filepath.Join(media, name+".mp4"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dataset = filepath.Join(dir, "dataset.csv")
	if err := os.WriteFile(dataset, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dataset, media, good
}

// countRecords counts the explained clips recorded in the store in dir.
func countRecords(t *testing.T, dir, out string) int {
	t.Helper()
	db, err := store.OpenReadOnly(context.Background(), filepath.Join(dir, "emer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	if err := db.Scan(context.Background(), "infer:"+filepath.Base(out), infer.Kind, func(batch.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func lineCount(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// TestInferDatasetKillResume: a dataset run killed part way resumes with no
// clip explained twice, reports the broken clips, and its files feed emer
// eval and emer score ov as they are.
func TestInferDatasetKillResume(t *testing.T) {
	needFaceModels(t)
	bin := testBinary(t)
	dir := t.TempDir()
	dataset, media, good := batchClips(t, dir)
	outDir := filepath.Join(dir, "out")
	out, openset := filepath.Join(outDir, "preds.csv"), filepath.Join(outDir, "openset.csv")
	journal := out + ".jsonl"
	args := []string{"infer", "--dataset", dataset, "--media", media, "--out", out, "--openset", openset, "--concurrency", "1"}
	clearConfigEnv(t)

	first := exec.Command(bin, args...)
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = first.Wait(); close(exited) }()
	// Killed once four clips are in the journal.
	deadline := time.After(2 * time.Minute)
	for lineCount(journal) < 4 {
		select {
		case <-exited:
			t.Fatalf("the first run ended before it was killed:\n%s", firstErr.String())
		case <-deadline:
			t.Fatalf("no four clips explained in two minutes:\n%s", firstErr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	done := countRecords(t, outDir, out)
	withMedia := 19
	if done < 4 || done >= withMedia {
		t.Fatalf("%d clips recorded at the kill; want 4..%d", done, withMedia-1)
	}

	// The rerun does only what was not recorded.
	second := exec.Command(bin, args...)
	var secondErr bytes.Buffer
	second.Stderr = &secondErr
	err := second.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("rerun: %v (want exit 1: broken clips)\n%s", err, secondErr.String())
	}
	m := regexp.MustCompile(`(\d+) clips explained into .* \((\d+) this run, (\d+) from earlier runs\), (\d+) failed, (\d+) without media`).FindStringSubmatch(secondErr.String())
	if m == nil {
		t.Fatalf("no summary line in:\n%s", secondErr.String())
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	if num(1) != len(good) || num(2) != withMedia-done || num(3) != done || num(4) != 3 || num(5) != 1 {
		t.Fatalf("rerun summary %q: want %d explained, %d this run, %d earlier, 3 failed, 1 without media", m[0], len(good), withMedia-done, done)
	}
	for _, name := range []string{"c17", "c18", "c19", "c20"} {
		if !strings.Contains(secondErr.String(), "emer infer: "+name+": ") {
			t.Errorf("broken clip %s not reported:\n%s", name, secondErr.String())
		}
	}
	if n := lineCount(journal); n != withMedia {
		t.Errorf("journal has %d lines, want one per clip with media (%d)", n, withMedia)
	}
	preds, err := table.ReadFile(out, "reasons")
	if err != nil {
		t.Fatal(err)
	}
	if got := preds.Names(); len(got) != len(good) {
		t.Fatalf("%s names %v, want the %d good clips", out, got, len(good))
	}
	// A third run does nothing at all.
	third := exec.Command(bin, args...)
	var thirdErr bytes.Buffer
	third.Stderr = &thirdErr
	_ = third.Run()
	if !strings.Contains(thirdErr.String(), fmt.Sprintf("(0 this run, %d from earlier runs)", withMedia)) {
		t.Errorf("third run redid work:\n%s", thirdErr.String())
	}

	// The files feed emer eval and emer score ov unchanged.
	gt := filepath.Join(dir, "gt.csv")
	gtOpen := filepath.Join(dir, "gt-openset.csv")
	var gtb, gob strings.Builder
	gtb.WriteString("names,reasons\n")
	gob.WriteString("name,openset\n")
	for _, n := range good {
		fmt.Fprintf(&gtb, "%s,\"In the video, he smiled. Therefore, it is inferred that his emotional state is happy.\"\n", n)
		fmt.Fprintf(&gob, "%s,\"['happy']\"\n", n)
	}
	for p, s := range map[string]string{gt: gtb.String(), gtOpen: gob.String()} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := llmtest.NewServer(releaseJudge)
	defer srv.Close()
	var evalErr bytes.Buffer
	if code := execute(context.Background(), []string{"eval", "--gt", gt, "--pred", "local=" + out, "--protocol", "release",
		"--model", "fake-judge", "--base-url", srv.BaseURL(), "--out", filepath.Join(dir, "eval")}, io.Discard, &evalErr); code != 0 {
		t.Fatalf("emer eval on the predictions: exit %d\n%s", code, evalErr.String())
	}
	wheels := sharedtest.Data(t, "emotion-wheel", "affectgpt2025")
	var scoreOut, scoreErr bytes.Buffer
	if code := execute(context.Background(), []string{"score", "ov", "--gt", gtOpen, "--pred", openset, "--wheels", wheels}, &scoreOut, &scoreErr); code != 0 {
		t.Fatalf("emer score ov on the open set: exit %d\n%s\n%s", code, scoreOut.String(), scoreErr.String())
	}
}
