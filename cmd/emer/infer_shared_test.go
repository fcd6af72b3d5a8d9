//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/llm/llmtest"
	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/store"
)

// sharedClips writes a dataset of eight clips over the media of
// batchClips: six good ones, each with words of its own, a zero-byte file
// (c17) and a name without media (c20).
func sharedClips(t *testing.T, dir string) (dataset, media string, good []string) {
	t.Helper()
	_, media, all := batchClips(t, dir)
	good = all[:6]
	var b strings.Builder
	b.WriteString("names,subtitles\n")
	for i, n := range append(append([]string(nil), good...), "c17", "c20") {
		fmt.Fprintf(&b, "%s,\"Clip %d: I am so happy about number %d today.\"\n", n, i, i*7)
	}
	dataset = filepath.Join(dir, "shared.csv")
	if err := os.WriteFile(dataset, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dataset, media, good
}

// inferSummary reads the counts of a dataset run's summary line:
// explained, this run, from earlier runs, failed, without media.
func inferSummary(t *testing.T, stderr string) [5]int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) clips explained into .* \((\d+) this run, (\d+) from earlier runs\), (\d+) failed, (\d+) without media`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary line in:\n%s", stderr)
	}
	var n [5]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return n
}

// runInferCLI runs emer infer with args and returns its exit status and
// stderr.
func runInferCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := execute(context.Background(), append([]string{"infer"}, args...), &bytes.Buffer{}, &stderr)
	return code, stderr.String()
}

// startInferWorkers starts n emer workers of infer items on the store at
// url, as goroutines, and returns what stops them and waits for them.
func startInferWorkers(t *testing.T, url, baseURL string, n int) (stop func(), logs []*syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	for i := range n {
		cfg := config.Default()
		cfg.Store = config.Store{Driver: config.DriverPostgres, URL: url}
		cfg.BaseURL, cfg.Concurrency, cfg.MaxAttempts = baseURL, 1, 2
		log := &syncBuffer{}
		logs = append(logs, log)
		wg.Go(func() {
			err := runWorker(ctx, workerOptions{Kinds: []string{"infer"}, Lease: time.Minute, ID: fmt.Sprintf("w%d", i),
				Config: cfg, Stderr: log, started: func(string) { started <- struct{}{} }})
			if err != nil {
				t.Errorf("worker %d: %v\n%s", i, err, log.String())
			}
		})
	}
	for range n {
		<-started
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop, logs
}

// sameFiles checks that the files named in both folders are equal byte
// for byte.
func sameFiles(t *testing.T, want, got string, names ...string) {
	t.Helper()
	for _, n := range names {
		w, err := os.ReadFile(filepath.Join(want, n))
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(filepath.Join(got, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w, g) {
			t.Errorf("%s differs from the single-process run's:\n--- single process\n%s\n--- shared\n%s", n, w, g)
		}
	}
}

// TestInferSharedTwoWorkers is the acceptance run of a shared dataset
// run: emer infer --dataset over generated clips through two emer
// workers, the submitter only waiting (--workers 0), gives the CSVs of a
// single-process SQLite run byte for byte; the broken clip and the name
// without media are reported the same way, exit status 1 both times; a
// rerun against the same store explains nothing. With the llm backend,
// through one emer worker and the submitter's own, each clip's requests
// are made once over the run and its rerun.
func TestInferSharedTwoWorkers(t *testing.T) {
	needFaceModels(t)
	cluster := pgtest.New(t)
	dir := t.TempDir()
	dataset, media, good := sharedClips(t, dir)
	clearConfigEnv(t)
	const withMedia = 7

	// llmReply answers the reasoning prompt by the clip's subtitle and the
	// label extraction by the reasoning it is given.
	var mu sync.Mutex
	reasoned := map[string]int{}
	llmReply := func(c *llmtest.Call) llmtest.Step {
		p := c.Prompt()
		if strings.Contains(p, "Please assume the role of an expert in the field of emotions") {
			return llmtest.Step{Text: "[happy, excited]"}
		}
		sub := regexp.MustCompile(`<Subtitle>(.*?)</Subtitle>`).FindStringSubmatch(p)
		if sub == nil {
			return llmtest.Step{Status: 400, Body: `{"error":{"message":"no subtitle"}}`}
		}
		mu.Lock()
		reasoned[sub[1]]++
		mu.Unlock()
		return llmtest.Step{Text: "He smiles and says: " + sub[1] + " Therefore, he is happy."}
	}

	for _, tc := range []struct {
		name string
		args []string
		// The submitter's --workers, and how many emer workers run.
		local, workers int
	}{
		{"local", nil, 0, 2},
		{"llm", []string{"--backend", "llm", "--model", "fake-vlm", "--frames", "2", "--concurrency", "1"}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(llmReply)
			defer srv.Close()
			args := append([]string{"--dataset", dataset, "--media", media, "--base-url", srv.BaseURL()}, tc.args...)
			files := func(out string) []string {
				return []string{"--out", filepath.Join(out, "preds.csv"), "--openset", filepath.Join(out, "openset.csv")}
			}
			check := func(what string, code int, stderr string, ran, earlier int) {
				t.Helper()
				if code != 1 {
					t.Fatalf("%s: exit %d, want 1 (a broken clip, a name without media)\n%s", what, code, stderr)
				}
				if got, want := inferSummary(t, stderr), [5]int{len(good), ran, earlier, 1, 1}; got != want {
					t.Errorf("%s: explained, this run, earlier, failed, without media = %v, want %v\n%s", what, got, want, stderr)
				}
				for _, name := range []string{"c17", "c20"} {
					if !strings.Contains(stderr, "emer infer: "+name+": ") {
						t.Errorf("%s: %s not reported:\n%s", what, name, stderr)
					}
				}
			}

			ref := filepath.Join(dir, tc.name, "ref")
			code, stderr := runInferCLI(t, append(args, files(ref)...)...)
			check("single process", code, stderr, withMedia, 0)
			refRequests := srv.Count()

			url := cluster.NewDatabase(t)
			stop, logs := startInferWorkers(t, url, srv.BaseURL(), tc.workers)
			out := filepath.Join(dir, tc.name, "shared")
			sharedArgs := append(append(args, files(out)...), "--store", url, "--workers", fmt.Sprint(tc.local))
			code, stderr = runInferCLI(t, sharedArgs...)
			check("shared", code, stderr, withMedia, 0)
			sameFiles(t, ref, out, "preds.csv", "openset.csv")
			if n := lineCount(filepath.Join(out, "preds.csv.jsonl")); n != withMedia {
				t.Errorf("the shared run's journal has %d lines, want %d", n, withMedia)
			}
			by := map[string]int{}
			for i := range tc.workers {
				id := fmt.Sprintf("w%d", i)
				by[id] = queryInt(t, url, `SELECT count(*) FROM river_job WHERE queue = 'infer' AND attempted_by[1] = $1`, id)
			}
			if tc.local > 0 {
				by["submitter"] = queryInt(t, url, `SELECT count(*) FROM river_job WHERE queue = 'infer' AND NOT attempted_by[1] LIKE 'w_'`)
			}
			t.Logf("clips taken: %v", by)
			if n := queryInt(t, url, `SELECT count(*) FROM river_job WHERE queue = 'infer' AND state = 'completed'`); n != withMedia {
				t.Errorf("%d clips done in the queue, want %d", n, withMedia)
			}
			// emer status sees the run: the good clips done, the broken
			// one failed, nothing held or queued.
			var so bytes.Buffer
			if err := runStatus(context.Background(), statusOptions{JSON: true, Config: config.Config{Store: config.Store{Driver: config.DriverPostgres, URL: url}}, Stdout: &so}); err != nil {
				t.Fatal(err)
			}
			var status pgstore.Status
			if err := json.Unmarshal(so.Bytes(), &status); err != nil {
				t.Fatal(err)
			}
			if r := status.Runs; len(r) != 1 || r[0].Run != "infer:"+absPath(filepath.Join(out, "preds.csv")) || r[0].Kind != infer.Kind ||
				r[0].Done != len(good) || r[0].Failed != withMedia-len(good) || r[0].Held != 0 || r[0].Queued != 0 {
				t.Errorf("status runs %+v, want the infer run with %d clips done and %d failed, none held or queued", r, len(good), withMedia-len(good))
			}

			// Again against the same store: nothing is explained.
			code, stderr = runInferCLI(t, sharedArgs...)
			check("shared rerun", code, stderr, 0, withMedia)
			stop()
			for i, l := range logs {
				if strings.Contains(l.String(), "level=ERROR") {
					t.Errorf("worker %d logged an error:\n%s", i, l.String())
				}
			}
			if tc.name == "llm" {
				// Reasoning and labels once per good clip, for the
				// reference run and for the shared run with its rerun.
				if refRequests != 2*len(good) || srv.Count() != 4*len(good) {
					t.Errorf("%d requests in the single-process run and %d in the shared runs, want %d each", refRequests, srv.Count()-refRequests, 2*len(good))
				}
				mu.Lock()
				for sub, n := range reasoned {
					if n != 2 {
						t.Errorf("%q reasoned about %d times, want twice (once a run)", sub, n)
					}
				}
				mu.Unlock()
			}
		})
	}
}

// TestInferDatasetResumesOldFolder: a folder that an emer before the
// shared store made resumes with nothing explained again, its store
// holding the clips under the input digest that emer recorded.
func TestInferDatasetResumesOldFolder(t *testing.T) {
	clearConfigEnv(t)
	dir := t.TempDir()
	media := filepath.Join(dir, "media")
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"c01", "c02", "c03"}
	var csv strings.Builder
	csv.WriteString("names,subtitles\n")
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(media, n+".mp4"), []byte("not decoded: "+n), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&csv, "%s,\"words <of> %s & more\"\n", n, n)
	}
	dataset := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(dataset, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The settings and the clip digest as emer infer recorded them before
	// the shared store, for the default flags.
	oldSettings, err := json.Marshal(map[string]any{
		"backend": "local", "mode": "end2end", "prompt": "emer", "model": "",
		"caption_model": "", "base_url": "http://127.0.0.1:8000/v1", "frames": 8, "audio": false,
		"lang": "en", "fps": 2.0, "detector": "auto", "landmarks": "net", "rules": explain.RulesVersion,
		"asr_url": "", "asr_model": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	oldInput := func(path, subtitle string) string {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, s := range []string{string(oldSettings), path, fmt.Sprint(st.Size()), st.ModTime().UTC().Format("2006-01-02T15:04:05.000000000"), subtitle} {
			fmt.Fprintf(h, "%d\x00%s\x00", len(s), s)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	for _, tc := range []struct{ name, store string }{{"beside --out", ""}, {"sqlite:PATH", "sqlite:" + filepath.Join(dir, "elsewhere.db")}} {
		t.Run(tc.name, func(t *testing.T) {
			outDir := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(outDir, "preds.csv")
			dbPath := filepath.Join(outDir, "emer.db")
			args := []string{"--dataset", dataset, "--media", media, "--out", out}
			if tc.store != "" {
				dbPath = strings.TrimPrefix(tc.store, "sqlite:")
				args = append(args, "--store", tc.store)
			}
			db, err := store.Open(context.Background(), dbPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				line, _ := json.Marshal(infer.Line{Name: n, Status: infer.StatusOK, Explanation: &explain.Explanation{
					Clip: n, Reasoning: "explained before: " + n, OVLabels: []string{"calm"}}})
				if err := db.Put(context.Background(), batch.Record{Run: "infer:preds.csv", Kind: infer.Kind, Key: n,
					Input: oldInput(filepath.Join(media, n+".mp4"), "words <of> "+n+" & more"), Class: batch.Final, Status: infer.StatusOK, Payload: line}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			code, stderr := runInferCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if got := inferSummary(t, stderr); got != [5]int{3, 0, 3, 0, 0} {
				t.Fatalf("explained, this run, earlier, failed, without media = %v, want [3 0 3 0 0]: the old records do not stand\n%s", got, stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if want := "names,reasons\nc01,explained before: c01\nc02,explained before: c02\nc03,explained before: c03\n"; string(b) != want {
				t.Errorf("%s:\n%s\nwant\n%s", out, b, want)
			}
		})
	}
}

// TestInferSharedUsage: the mistakes in the flags of shared dataset runs
// are usage errors naming every problem, and never show a password.
func TestInferSharedUsage(t *testing.T) {
	pg := "postgres://emer:secret@127.0.0.1:1/emer"
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"a.mp4", "--store", pg}, []string{"--store: for --dataset runs"}},
		{[]string{"a.mp4", "--workers", "0", "--run", "x"}, []string{"--workers, --run: for --dataset runs"}},
		{[]string{"--dataset", "d.csv", "--media", "m", "--out", "o/p.csv", "--workers", "0", "--lease", "5s"},
			[]string{"--workers, --lease: for a shared store (--store postgres://...)"}},
		{[]string{"--dataset", "d.csv", "--media", "m", "--out", "o/p.csv", "--store", "sqlite:x.db", "--run", "r"},
			[]string{"--run: for a shared store (--store postgres://...)"}},
		{[]string{"--dataset", "d.csv", "--media", "m", "--out", "o/p.csv", "--store", pg, "--workers", "2", "--lease", "10ms", "--cache", "c.db"},
			[]string{"--workers 2: want 1 (explain here too) or 0 (only wait)", "--lease 10ms: want 1s or more", "--cache: a shared store keeps its own cache"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			clearConfigEnv(t)
			code, stderr := runInferCLI(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("stderr shows the password:\n%s", stderr)
			}
		})
	}
	if err := checkInferStore(inferOptions{dataset: "d.csv", cfg: config.Config{Store: config.Store{Driver: config.DriverPostgres, URL: pg}}, workers: 1, lease: time.Minute}); err != nil {
		t.Errorf("a shared run with the defaults: %v", err)
	}
	if err := checkInferStore(inferOptions{dataset: "d.csv", sharedSet: []string{"--store"}}); err != nil {
		t.Errorf("--store sqlite:PATH with --dataset: %v", err)
	}
}
