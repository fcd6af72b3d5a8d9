package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"emer/internal/explain"
	"emer/internal/llm/llmtest"
	"emer/internal/sharedtest"
)

// needFFmpeg skips a test when ffmpeg or espeak-ng is missing.
func needFFmpeg(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range append([]string{"ffmpeg", "ffprobe"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make setup installs it)", tool)
		}
	}
}

func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// testFace writes a 320x240 PNG of one smiling face, cut from a sample
// photo (the woman at the centre of sample3.jpg).
func testFace(t *testing.T, dir string) string {
	t.Helper()
	photo := sharedtest.Path(t, "reference", "media", "sample3.jpg")
	p := filepath.Join(dir, "face.png")
	runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", photo, "-vf", "crop=1280:960:527:0,scale=320:240", p)
	return p
}

// testSpeech writes espeak-ng speech of text with a short silence around
// it, as 16 kHz WAV.
func testSpeech(t *testing.T, dir, name, text string) string {
	t.Helper()
	raw := filepath.Join(dir, name+".raw.wav")
	runTool(t, "espeak-ng", "-v", "en-us", "-s", "160", "-w", raw, text)
	p := filepath.Join(dir, name+".wav")
	runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", raw, "-af", "adelay=500,apad=pad_dur=0.5", "-ar", "16000", "-ac", "1", p)
	return p
}

// testClip muxes a still face and (optionally) speech into an mp4 of dur
// seconds.
func testClip(t *testing.T, path, face, speech string, dur float64) {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-y", "-loop", "1", "-framerate", "10", "-i", face}
	if speech != "" {
		args = append(args, "-i", speech, "-map", "0:v", "-map", "1:a", "-c:a", "aac")
	}
	args = append(args, "-t", fmt.Sprint(dur), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)
	runTool(t, "ffmpeg", args...)
}

func inferJSON(t *testing.T, args ...string) []explain.Explanation {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), append([]string{"infer", "--json"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("emer infer %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	var es []explain.Explanation
	dec := json.NewDecoder(&out)
	for dec.More() {
		var e explain.Explanation
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("output is not JSON lines: %v\n%s", err, out.String())
		}
		es = append(es, e)
	}
	return es
}

func aspects(e explain.Explanation) []string {
	var as []string
	for _, c := range e.Clues {
		if !slices.Contains(as, c.Aspect) {
			as = append(as, c.Aspect)
		}
	}
	return as
}

func TestInferReferenceClip(t *testing.T) {
	clip := sharedClip(t)
	needFaceModels(t)
	es := inferJSON(t, clip)
	if len(es) != 1 {
		t.Fatalf("%d explanations, want 1", len(es))
	}
	e := es[0]
	var top []string
	for _, em := range e.Emotions[:min(3, len(e.Emotions))] {
		top = append(top, em.Label)
	}
	if !slices.Contains(top, "happy") {
		t.Errorf("top emotions %v lack happy", top)
	}
	for _, want := range []string{"visual", "content"} {
		found := false
		for _, c := range e.Clues {
			if c.Aspect != want {
				continue
			}
			found = true
			if c.End <= c.Start || len(c.Evidence) == 0 {
				t.Errorf("%s clue %q: time %.2f-%.2f, evidence %v", want, c.Text, c.Start, c.End, c.Evidence)
			}
		}
		if !found || !slices.Contains(e.Modalities, want) {
			t.Errorf("no %s clue or modality: clues %v, modalities %v", want, aspects(e), e.Modalities)
		}
	}
	if !strings.HasPrefix(e.Reasoning, "In the video, ") || !strings.Contains(e.Reasoning, "Therefore, it is inferred that his emotional state is") {
		t.Errorf("reasoning is not in the EMER form: %q", e.Reasoning)
	}
}

// TestInferMeasuredChannelsOnly: a clip with speech and no face, and a
// clip with a face and no audio, are explained from what was measured
// alone.
func TestInferMeasuredChannelsOnly(t *testing.T) {
	needFFmpeg(t, "espeak-ng")
	needFaceModels(t)
	dir := t.TempDir()
	face := testFace(t, dir)
	speech := testSpeech(t, dir, "speech", "I am so happy to see you again.")
	silent := filepath.Join(dir, "silent.mp4")
	testClip(t, silent, face, "", 2)

	voiceOnly := inferJSON(t, speech)[0]
	if as := aspects(voiceOnly); slices.Contains(as, "visual") || slices.Contains(voiceOnly.Modalities, "visual") {
		t.Errorf("speech without a face: clue aspects %v, modalities %v", as, voiceOnly.Modalities)
	}
	if !slices.Contains(voiceOnly.Modalities, "audio") || !slices.Contains(aspects(voiceOnly), "audio") {
		t.Errorf("speech without a face has no voice clue: %v, %v", aspects(voiceOnly), voiceOnly.Modalities)
	}
	if strings.Contains(voiceOnly.Reasoning, "smil") || strings.Contains(voiceOnly.Reasoning, "face") {
		t.Errorf("speech without a face: the reasoning speaks of a face: %q", voiceOnly.Reasoning)
	}

	faceOnly := inferJSON(t, silent)[0]
	if as := aspects(faceOnly); slices.Contains(as, "audio") || slices.Contains(faceOnly.Modalities, "audio") {
		t.Errorf("face without audio: clue aspects %v, modalities %v", as, faceOnly.Modalities)
	}
	if !slices.Contains(faceOnly.Modalities, "visual") {
		t.Errorf("face without audio has no visual modality: %v", faceOnly.Modalities)
	}
	for _, word := range []string{"voice", "tone", "spoke", "said"} {
		if strings.Contains(faceOnly.Reasoning, word) {
			t.Errorf("face without audio: the reasoning says %q: %q", word, faceOnly.Reasoning)
		}
	}
	if !slices.ContainsFunc(faceOnly.Warnings, func(w string) bool { return strings.Contains(w, "no audio") }) {
		t.Errorf("face without audio: no warning says the audio is absent: %v", faceOnly.Warnings)
	}
}

func TestInferUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "give at least one CLIP"},
		{[]string{"a.mp4", "--dataset", "d.csv", "--media", "m", "--out", "o.csv"}, "not both"},
		{[]string{"--dataset", "d.csv"}, "--dataset needs --media DIR"},
		{[]string{"a.mp4", "--out", "o.csv"}, "--out is for --dataset runs"},
		{[]string{"a.mp4", "b.mp4", "--subtitle", "hi"}, "apply to one clip"},
		{[]string{"a.mp4", "--backend", "gpu"}, "--backend must be local or llm"},
		{[]string{"a.mp4", "--mode", "caption"}, "--mode is for --backend llm"},
		{[]string{"a.mp4", "--backend", "llm"}, "--backend llm needs --model"},
		{[]string{"a.mp4", "--backend", "llm", "--model", "m", "--prompt", "x"}, "--prompt must be one of"},
		{[]string{"a.mp4", "--fps", "NaN"}, "--fps must be"},
		{[]string{"a.mp4", "--lang", "fr"}, "--lang must be en or zh"},
		{[]string{"a.mp4", "--asr-url", "http://127.0.0.1:9/v1"}, "needs a model name"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			clearConfigEnv(t)
			var out, errOut bytes.Buffer
			code := execute(context.Background(), append([]string{"infer"}, tc.args...), &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tc.msg) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), tc.msg)
			}
		})
	}
}

func TestInferBrokenClipGoesOn(t *testing.T) {
	clip := sharedClip(t)
	needFaceModels(t)
	bad := filepath.Join(t.TempDir(), "bad.mp4")
	if err := os.WriteFile(bad, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{"infer", "--json", bad, clip}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a clip failed)\n%s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.Contains(errOut.String(), bad) {
		t.Fatalf("want one explanation on stdout and the bad clip named on stderr; stdout %d lines, stderr %q", n, errOut.String())
	}
}

// TestInferLLM checks the llm backend's wiring through the command: the
// request carries K frames, the subtitle and the prompt; the labels come
// from the extraction step.
func TestInferLLM(t *testing.T) {
	clip := sharedClip(t)
	needFaceModels(t)
	clearConfigEnv(t)
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		if strings.Contains(c.Prompt(), "Please assume the role of an expert in the field of emotions") {
			return llmtest.Step{Text: "[happy, excited]"}
		}
		return llmtest.Step{Text: "He smiles broadly and says he is happy. Therefore, he is happy."}
	})
	defer srv.Close()
	es := inferJSON(t, clip, "--backend", "llm", "--base-url", srv.URL+"/v1", "--model", "fake-vlm", "--frames", "4")
	e := es[0]
	if e.Backend != "llm" || e.Model != "fake-vlm" || !slices.Equal(e.OVLabels, []string{"happy", "excited"}) {
		t.Fatalf("explanation: backend %q model %q labels %v", e.Backend, e.Model, e.OVLabels)
	}
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 (reasoning, labels)", len(calls))
	}
	images := 0
	for _, m := range calls[0].Messages {
		for _, p := range m.Parts {
			if p["type"] == "image_url" {
				images++
			}
		}
	}
	if images != 4 || !strings.Contains(calls[0].Prompt(), "<Subtitle>Hello there. I am so happy to see you today. This is wonderful news.</Subtitle>") {
		t.Fatalf("reasoning request: %d images, prompt %q", images, calls[0].Prompt())
	}
}

// TestInferCache: with --cache, model replies are kept in that file, also
// for clips given as arguments: the same call again makes no request.
func TestInferCache(t *testing.T) {
	clip := sharedClip(t)
	needFaceModels(t)
	clearConfigEnv(t)
	srv := llmtest.NewServer(func(c *llmtest.Call) llmtest.Step {
		if strings.Contains(c.Prompt(), "Please assume the role of an expert in the field of emotions") {
			return llmtest.Step{Text: "[happy]"}
		}
		return llmtest.Step{Text: "He smiles. Therefore, he is happy."}
	})
	defer srv.Close()
	cache := filepath.Join(t.TempDir(), "cache.db")
	args := []string{clip, "--backend", "llm", "--base-url", srv.URL + "/v1", "--model", "fake-vlm", "--frames", "2", "--cache", cache}
	first := inferJSON(t, args...)
	if n := srv.Count(); n != 2 {
		t.Fatalf("%d requests, want 2 (reasoning, labels)", n)
	}
	again := inferJSON(t, args...)
	if n := srv.Count(); n != 2 {
		t.Errorf("%d requests after the second run, want the first run's 2", n)
	}
	if first[0].Reasoning != again[0].Reasoning || !slices.Equal(first[0].OVLabels, again[0].OVLabels) {
		t.Errorf("cached run: %q %v, first %q %v", again[0].Reasoning, again[0].OVLabels, first[0].Reasoning, first[0].OVLabels)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("cache file: %v", err)
	}
}

// TestInferASRNoReply: in a dataset run, a clip whose speech-to-text
// server does not answer fails for now (request_error) and is explained,
// with its words, by the next run once the server answers; it is not
// kept as an explanation without the words. A clip given alone is
// explained without them, with a warning.
func TestInferASRNoReply(t *testing.T) {
	needFFmpeg(t, "espeak-ng")
	needFaceModels(t)
	clearConfigEnv(t)
	dir := t.TempDir()
	media := filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	speech := testSpeech(t, media, "s1", "I am so happy to see you again.")
	var down atomic.Bool
	down.Store(true)
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if down.Load() {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"text":"I am so happy to see you again."}`)
	}))
	defer srv.Close()
	asr := []string{"--asr-url", srv.URL + "/v1", "--asr-model", "whisper-1", "--max-attempts", "1"}

	// One clip: explained without its words, and said so.
	e := inferJSON(t, append([]string{speech}, asr...)...)[0]
	if slices.Contains(e.Modalities, "content") || !slices.ContainsFunc(e.Warnings, func(w string) bool { return strings.Contains(w, "speech to text failed") }) {
		t.Fatalf("a single clip with the server down: modalities %v, warnings %v", e.Modalities, e.Warnings)
	}

	ds := filepath.Join(dir, "ds.csv")
	if err := os.WriteFile(ds, []byte("names,subtitles\ns1,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "preds.csv")
	run := func() (int, string) {
		var stderr bytes.Buffer
		args := append([]string{"infer", "--dataset", ds, "--media", media, "--out", out}, asr...)
		return execute(context.Background(), args, io.Discard, &stderr), stderr.String()
	}
	code, stderr := run()
	if code != 1 || !strings.Contains(stderr, "s1: request_error: speech to text got no reply") {
		t.Fatalf("dataset run with the server down: exit %d\n%s", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || strings.Contains(string(b), "s1") {
		t.Fatalf("preds.csv with the clip not explained: %q, %v", b, err)
	}
	down.Store(false)
	code, stderr = run()
	if code != 0 || !strings.Contains(stderr, "(1 this run, 0 from earlier runs)") {
		t.Fatalf("dataset run with the server back: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "s1,") || !strings.Contains(strings.ToLower(string(b)), "happy") {
		t.Fatalf("preds.csv once the server answers: %q, %v", b, err)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d transcription requests, want 3 (the single clip, the failed run, the rerun)", n)
	}
}

// TestInferASR: a clip without subtitles is transcribed by the server at
// --asr-url; the words are explained and marked as a transcript, and the
// transcript is cached in a dataset run.
func TestInferASR(t *testing.T) {
	needFFmpeg(t, "espeak-ng")
	needFaceModels(t)
	clearConfigEnv(t)
	dir := t.TempDir()
	speech := testSpeech(t, dir, "speech", "I am so happy to see you again.")
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/audio/transcriptions" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		wav, _ := io.ReadAll(f)
		mu.Lock()
		got = append(got, fmt.Sprintf("%s/%s/%t", r.FormValue("model"), r.FormValue("language"), bytes.HasPrefix(wav, []byte("RIFF"))))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"text":"I am so happy to see you again."}`)
	}))
	defer srv.Close()

	e := inferJSON(t, speech, "--asr-url", srv.URL+"/v1", "--asr-model", "whisper-1")[0]
	if !slices.Contains(e.Modalities, "content") || !strings.Contains(e.Reasoning, "happy") {
		t.Fatalf("the transcript was not explained: modalities %v, reasoning %q", e.Modalities, e.Reasoning)
	}
	if !slices.ContainsFunc(e.Warnings, func(w string) bool { return strings.Contains(w, "transcript of the speech") }) {
		t.Errorf("the words are not marked as a transcript: %v", e.Warnings)
	}
	if len(got) != 1 || got[0] != "whisper-1/en/true" {
		t.Fatalf("transcription requests %v, want one WAV for whisper-1 in en", got)
	}

	// Without --asr-url the text channel is absent, and said so.
	e = inferJSON(t, speech)[0]
	if slices.Contains(e.Modalities, "content") || !slices.ContainsFunc(e.Warnings, func(w string) bool { return strings.Contains(w, "subtitle") }) {
		t.Fatalf("without speech to text: modalities %v, warnings %v", e.Modalities, e.Warnings)
	}

	// A dataset run caches the transcript: a run under other settings of
	// the reasoner asks the server no more.
	media := filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(speech, filepath.Join(media, "s1.wav")); err != nil {
		t.Fatal(err)
	}
	ds := filepath.Join(dir, "ds.csv")
	if err := os.WriteFile(ds, []byte("names,subtitles\ns1,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "preds.csv")
	for _, fps := range []string{"2", "1"} {
		var stderr bytes.Buffer
		args := []string{"infer", "--dataset", ds, "--media", media, "--out", out, "--asr-url", srv.URL + "/v1", "--asr-model", "whisper-1", "--fps", fps}
		if code := execute(context.Background(), args, io.Discard, &stderr); code != 0 {
			t.Fatalf("dataset run: exit %d\n%s", code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "(1 this run, 0 from earlier runs)") {
			t.Fatalf("dataset run at --fps %s did not explain the clip again:\n%s", fps, stderr.String())
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d transcription requests after two dataset runs, want 2 (one for the single clip, one cached for the dataset)", len(got))
	}
}
