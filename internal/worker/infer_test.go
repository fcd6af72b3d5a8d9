package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/infer"
	"emer/internal/llm/llmtest"
	"emer/internal/media"
	"emer/internal/pgstore"
)

func localSettings() infer.Settings {
	return infer.Settings{Backend: "local", Mode: "end2end", Prompt: "emer", Frames: 8, Lang: "en", FPS: 2, Detector: "auto", Landmarks: "net"}.WithVersions()
}

// inferWorker is a worker on no store: enough for what happens before an
// item's work starts.
func inferWorker(t *testing.T, cfg config.Config) *Worker {
	t.Helper()
	w, err := New(nil, Options{Config: cfg, Kinds: []string{KindInfer}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestInferItemRefused: an item that is not what its key and digest say is
// given up; one this worker cannot explain as its submitter would (the
// media missing or changed here, another emer's settings, speech to text
// without a server) stops the worker with a message naming the cause,
// and is left to another.
func TestInferItemRefused(t *testing.T) {
	dir := t.TempDir()
	media := filepath.Join(dir, "c01.mp4")
	if err := os.WriteFile(media, []byte("a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	item := func(s infer.Settings) batch.Item {
		bi, err := infer.NewItem(infer.Clip{Name: "c01", Path: media, Subtitle: "hello"}, s)
		if err != nil {
			t.Fatal(err)
		}
		return bi
	}
	good := item(localSettings())
	older := localSettings()
	older.Rules = "emer-rules/1"
	asr := localSettings()
	asr.ASR, asr.ASRModel = true, "whisper-1"
	var withField map[string]any
	if err := json.Unmarshal(good.Payload, &withField); err != nil {
		t.Fatal(err)
	}
	withField["settings"].(map[string]any)["temperature"] = 0.5
	newer, _ := json.Marshal(withField)

	away := filepath.Join(dir, "mnt", "c01.mp4")
	if err := os.MkdirAll(filepath.Dir(away), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(away, []byte("a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere, err := infer.NewItem(infer.Clip{Name: "c01", Path: away}, localSettings())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(away)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		it   batch.Item
		bad  bool // given up, rather than stopping the worker
		want []string
	}{
		{"payload not JSON", batch.Item{Key: "c01", Input: good.Input, Payload: []byte(`"x"`)}, true, []string{`infer item "c01"`}},
		{"digest of other texts", batch.Item{Key: "c01", Input: strings.Repeat("0", 64), Payload: good.Payload}, true, []string{"not that of its input digest"}},
		{"key of another clip", batch.Item{Key: "c02", Input: good.Input, Payload: good.Payload}, true, []string{`of clip "c01"`}},
		{"media folder missing", elsewhere, false, []string{"its folder " + filepath.Dir(away) + " is not on this machine", "the submitter's media at the same path"}},
		{"another emer's rules", item(older), false, []string{"queued by another emer version", `"emer-rules/1" there`, "run the submitter's emer version"}},
		{"a newer emer's settings", batch.Item{Key: "c01", Input: good.Input, Payload: newer}, false, []string{`unknown field "temperature"`, "run the submitter's emer version"}},
		{"speech to text without a server", item(asr), false, []string{"transcribes speech (model whisper-1)", "--asr-url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := inferWorker(t, config.Default())
			o, err := w.infer(context.Background(), tc.it)
			if err == nil {
				t.Fatalf("done: %+v", o)
			}
			if got := errors.Is(err, pgstore.ErrBadItem); got != tc.bad {
				t.Errorf("err = %v: given up %v, want %v", err, got, tc.bad)
			}
			if errors.Is(err, ErrUnreachable) {
				t.Errorf("err = %v: not a server's fault", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v; want it to say %q", err, want)
				}
			}
			if len(w.memo) != 0 {
				t.Errorf("a refused item built %d shared values", len(w.memo))
			}
		})
	}
}

// TestInferItemMediaChanged: a media file gone or rewritten since its
// clip was queued is that clip's failure, of class Retry (other workers
// and the next run try it again), not a reason to stop the worker, which
// would stop every worker of the run in turn.
func TestInferItemMediaChanged(t *testing.T) {
	dir := t.TempDir()
	gonePath := filepath.Join(dir, "gone.mp4")
	changedPath := filepath.Join(dir, "changed.mp4")
	for _, p := range []string{gonePath, changedPath} {
		if err := os.WriteFile(p, []byte("a video"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := infer.NewItem(infer.Clip{Name: "c01", Path: gonePath}, localSettings())
	if err != nil {
		t.Fatal(err)
	}
	changed, err := infer.NewItem(infer.Clip{Name: "c02", Path: changedPath}, localSettings())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gonePath); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changedPath, []byte("a longer video"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		it   batch.Item
		want []string
	}{
		{"media missing", gone, []string{gonePath + " is missing on this machine", "the submitter's media at the same path"}},
		{"media changed", changed, []string{changedPath + " is 14 bytes modified", "queued it as 7 bytes"}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			w := inferWorker(t, config.Default())
			o, err := w.infer(context.Background(), tc.it)
			if err != nil {
				t.Fatalf("the worker stops: %v", err)
			}
			if o.Class != batch.Retry || o.Status != infer.StatusError {
				t.Errorf("outcome %v %q, want retry %q", o.Class, o.Status, infer.StatusError)
			}
			var line infer.Line
			if err := json.Unmarshal(o.Payload, &line); err != nil {
				t.Fatal(err)
			}
			if line.Status != infer.StatusError || line.Explanation != nil {
				t.Errorf("line %+v", line)
			}
			for _, want := range tc.want {
				if !strings.Contains(line.Error, want) {
					t.Errorf("error %q; want it to say %q", line.Error, want)
				}
			}
			if len(w.memo) != 0 {
				t.Errorf("an unread clip built %d shared values", len(w.memo))
			}
		})
	}
}

// TestInferPipelinesShared: a worker builds one pipeline per distinct
// settings, and one cue extractor (with its face networks) per distinct
// cue settings.
func TestInferPipelinesShared(t *testing.T) {
	cfg := config.Default()
	cfg.ASRURL = "http://127.0.0.1:1/v1"
	w := inferWorker(t, cfg)
	emer := infer.Settings{Backend: "llm", Mode: "end2end", Prompt: "emer", Model: "m", Frames: 8, Lang: "en", FPS: 2, Detector: "auto", Landmarks: "net"}.WithVersions()
	affect := emer
	affect.Prompt = "affectgpt2025"
	slow := emer
	slow.FPS = 1
	local := localSettings()
	get := func(s infer.Settings) *infer.Pipeline {
		t.Helper()
		p, err := w.inferPipeline(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1, p2 := get(emer), get(emer)
	if p1 != p2 {
		t.Errorf("two pipelines of the same settings")
	}
	pa := get(affect)
	if pa == p1 || pa.Cues != p1.Cues {
		t.Errorf("another prompt: the pipeline should be its own (%v) and the extractor shared (%v)", pa != p1, pa.Cues == p1.Cues)
	}
	if ps := get(slow); ps.Cues == p1.Cues {
		t.Errorf("another fps shares the extractor")
	}
	if pl := get(local); pl.Cues == p1.Cues {
		t.Errorf("the local backend (voice features) shares the llm backend's extractor")
	}
	if n := len(w.memo); n != 7 {
		t.Errorf("%d shared values, want 4 pipelines and 3 extractors", n)
	}
}

// testVideo writes a one-second video of a test pattern with ffmpeg, or
// skips the test when ffmpeg is missing.
func testVideo(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	p := filepath.Join(t.TempDir(), "c01.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5",
		"-t", "1", "-pix_fmt", "yuv420p", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return p
}

// TestInferItemNoReply: an llm-backend clip is explained through the
// worker's server; a model call with no reply is tried again, and stops
// the worker once the server is unreachable.
func TestInferItemNoReply(t *testing.T) {
	video := testVideo(t)
	s := infer.Settings{Backend: "llm", Mode: "end2end", Prompt: "emer", Model: "m", Frames: 2, Lang: "en", FPS: 1, Detector: "tiny", Landmarks: "none"}.WithVersions()
	it, err := infer.NewItem(infer.Clip{Name: "c01", Path: video, Subtitle: "I won."}, s)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	fail := false
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case fail:
			return llmtest.Step{Status: 503, Body: `{"error":{"message":"overloaded"}}`}
		case strings.Contains(c.Prompt(), "Please assume the role of an expert in the field of emotions"):
			return llmtest.Step{Text: "[happy]"}
		}
		return llmtest.Step{Text: "He says he won. Therefore, he is happy."}
	})
	defer srv.Close()

	o, err := testWorker(srv.BaseURL(), 8).infer(context.Background(), it)
	var line infer.Line
	if err == nil {
		err = json.Unmarshal(o.Payload, &line)
	}
	if err != nil || o.Class != batch.Final || line.Status != infer.StatusOK || line.Explanation == nil ||
		line.Explanation.Reasoning != "He says he won. Therefore, he is happy." {
		t.Fatalf("server answering: outcome %s %s %s, err %v", o.Class, o.Status, o.Payload, err)
	}

	mu.Lock()
	fail = true
	mu.Unlock()
	o, err = testWorker(srv.BaseURL(), 8).infer(context.Background(), it)
	if err != nil || o.Class != batch.Retry || o.Status != infer.StatusRetry {
		t.Errorf("server failing: outcome %s %s, err %v; want a retry", o.Class, o.Status, err)
	}

	srv.Close()
	_, err = testWorker(srv.BaseURL(), 1).infer(context.Background(), it)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("server gone: err = %v, want ErrUnreachable", err)
	}
}

// TestInferItemCutShort: an item whose work the worker's stop cancels is
// released (an error), not recorded as the clip's failure that stands.
func TestInferItemCutShort(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c01.mp4")
	if err := os.WriteFile(p, []byte("a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	it, err := infer.NewItem(infer.Clip{Name: "c01", Path: p}, localSettings())
	if err != nil {
		t.Fatal(err)
	}
	w := inferWorker(t, config.Default())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o, err := w.work(ctx, "r", KindInfer, it)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("outcome %v %q, err %v; want the item released (context.Canceled)", o.Class, o.Status, err)
	}
}

// TestInferWorkerWithoutFFmpeg: a worker that cannot read clips stops,
// leaving the clip to another, instead of failing every clip it takes.
func TestInferWorkerWithoutFFmpeg(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c01.mp4")
	if err := os.WriteFile(p, []byte("a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	it, err := infer.NewItem(infer.Clip{Name: "c01", Path: p}, localSettings())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	w := inferWorker(t, config.Default())
	o, err := w.infer(context.Background(), it)
	if err == nil || errors.Is(err, pgstore.ErrBadItem) || !errors.Is(err, media.ErrNoFFmpeg) ||
		!strings.Contains(err.Error(), "this worker cannot explain clips") {
		t.Errorf("outcome %v %q, err %v; want the worker stopped for want of ffmpeg", o.Class, o.Status, err)
	}
}

// TestInferWorkerSpeechToTextDown: a worker whose speech-to-text server
// gives no transcript for asrStop clips in a row stops as unreachable; a
// clip transcribed between resets the count.
func TestInferWorkerSpeechToTextDown(t *testing.T) {
	cfg := config.Default()
	cfg.ASRURL = "http://127.0.0.1:1/v1"
	w := inferWorker(t, cfg)
	s := localSettings()
	s.ASR, s.ASRModel = true, "whisper-1"
	none := fmt.Errorf("%w: connection refused", infer.ErrNoTranscript)
	for i := range asrStop - 1 {
		if err := w.transcripts(s, none); err != nil {
			t.Fatalf("clip %d without a transcript: %v", i+1, err)
		}
	}
	if err := w.transcripts(s, nil); err != nil {
		t.Fatal(err)
	}
	for i := range asrStop - 1 {
		if err := w.transcripts(s, none); err != nil {
			t.Fatalf("after a transcript, clip %d without one: %v", i+1, err)
		}
	}
	err := w.transcripts(s, none)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("clip %d in a row without a transcript: %v; want ErrUnreachable naming the server", asrStop, err)
	}
	// Runs without speech to text are not counted.
	if err := w.transcripts(localSettings(), none); err != nil {
		t.Errorf("a run without speech to text: %v", err)
	}
}
