package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"emer/internal/llm/llmtest"
)

// paperJudge answers the paper protocol's prompts; summaries quote their
// input so that no two items share a request by accident.
func paperJudge(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	switch {
	case strings.HasPrefix(p, "Please summarize how many modalities"):
		return llmtest.Step{Text: "visual, audio", Tokens: 3}
	case strings.HasSuffix(p, "Score:"):
		return llmtest.Step{Text: "Score: 7", Tokens: 2}
	case strings.HasPrefix(p, "Please extract"):
		return llmtest.Step{Text: "clues of " + textBetween(p, "Input: ", " Output:"), Tokens: 20}
	}
	return llmtest.Step{Text: "emotion of " + textBetween(p, "Input: ", "\nOutput:"), Tokens: 5}
}

// BenchmarkEvalPaper judges 1,000 samples × 2 systems with the paper
// protocol against a judge with a fixed 50 ms latency at concurrency 32.
// It reports the calls made, the wall time as a share of the ideal
// (calls × 50 ms / 32), and the requests a rerun makes (must be 0).
func BenchmarkEvalPaper(b *testing.B) {
	const (
		samples     = 1000
		latency     = 50 * time.Millisecond
		concurrency = 32
	)
	dir := b.TempDir()
	var names, gt, x, y []string
	for i := range samples {
		names = append(names, fmt.Sprintf("sample_%05d", i))
		gt = append(gt, fmt.Sprintf("In clip %d, he frowns and raises his voice. Therefore he is angry.", i))
		x = append(x, fmt.Sprintf("Clip %d: the man looks upset and speaks loudly.", i))
		y = append(y, fmt.Sprintf("Clip %d: a person smiles; the music is cheerful.", i))
	}
	writeReasonsCSV(b, filepath.Join(dir, "gt.csv"), "reasons", names, gt)
	writeReasonsCSV(b, filepath.Join(dir, "x.csv"), "reasons", names, x)
	writeReasonsCSV(b, filepath.Join(dir, "y.csv"), "reasons", names, y)

	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		s := paperJudge(c)
		s.Delay = latency
		return s
	})
	defer srv.Close()
	cfg := judgeTestConfig(srv.BaseURL())
	cfg.Concurrency = concurrency
	cfg.Timeout = 0

	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		opts := evalOptions{
			GT: filepath.Join(dir, "gt.csv"), Preds: []string{"x=" + filepath.Join(dir, "x.csv"), "y=" + filepath.Join(dir, "y.csv")},
			Protocol: "paper", Out: filepath.Join(dir, fmt.Sprintf("out%d", run)), Repeats: 1, Config: cfg,
			Stdout: io.Discard, Stderr: io.Discard,
		}
		before := srv.Count()
		start := time.Now()
		b.StartTimer()
		if err := runEval(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		wall := time.Since(start)
		calls := srv.Count() - before
		if calls != samples*(2+2*5) {
			b.Fatalf("%d calls, want %d", calls, samples*(2+2*5))
		}
		ideal := time.Duration(calls) * latency / concurrency
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(100*ideal.Seconds()/wall.Seconds(), "%-of-ideal")

		before = srv.Count()
		if err := runEval(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
		rerun := srv.Count() - before
		b.ReportMetric(float64(rerun), "rerun-requests")
		if rerun != 0 {
			b.Fatalf("rerun made %d requests, want 0", rerun)
		}
		b.StartTimer()
	}
}
