package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/llm"
	"emer/internal/llm/llmtest"
	"emer/internal/pgstore"
	"emer/internal/store"
	"emer/internal/summarize"
)

// testWorker is a worker that does items handed to it, with no store: its
// stack asks baseURL, without a cache.
func testWorker(baseURL string, breakerFailures int) *Worker {
	cfg := config.Default()
	cfg.BaseURL, cfg.Concurrency, cfg.MaxAttempts = baseURL, 2, 1
	sc := cfg.StackConfig()
	sc.BreakerFailures = breakerFailures
	return &Worker{opts: Options{Config: cfg}, stack: llm.NewStack(sc), memo: map[any]any{}}
}

// clueModel answers the three steps of a clip: its first clue, worried,
// [worried].
func clueModel(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	switch {
	case strings.HasPrefix(p, "Several descriptions"):
		return llmtest.Step{Text: "He frowns and looks down."}
	case strings.HasPrefix(p, "Summarize the emotional state"):
		return llmtest.Step{Text: "worried"}
	}
	return llmtest.Step{Text: "[worried]"}
}

var testSpec = summarize.Spec{Model: "m", Lang: summarize.English, MaxTokens: 256}

// queued returns the queue item of si, its input the digest of what it
// holds unless input is given.
func queued(t *testing.T, si summarize.Item, input ...string) batch.Item {
	t.Helper()
	b, err := json.Marshal(si)
	if err != nil {
		t.Fatal(err)
	}
	in := si.Input()
	if len(input) > 0 {
		in = input[0]
	}
	return batch.Item{Key: si.Name, Input: in, Payload: b}
}

func TestDecodeSummarize(t *testing.T) {
	good := summarize.NewItem(testSpec, summarize.Clip{Name: "s001", Descriptions: []string{"He frowns. A dim room.", "He looks down."}})
	it := queued(t, good)
	got, err := decodeSummarize(it)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(good, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if got.Spec() != testSpec || got.PromptSHA256 != summarize.PromptsSHA256() {
		t.Errorf("spec %+v, prompts %s", got.Spec(), got.PromptSHA256)
	}

	with := func(f func(*summarize.Item)) summarize.Item {
		si := good
		si.Descriptions = append([]string(nil), good.Descriptions...)
		f(&si)
		return si
	}
	for _, tc := range []struct {
		name string
		item batch.Item
		want string
	}{
		{"not JSON", batch.Item{Key: "s001", Input: it.Input, Payload: []byte(`{"clip":`)}, `summarize item "s001": unexpected EOF`},
		{"another clip", batch.Item{Key: "s002", Input: it.Input, Payload: it.Payload}, `summarize item "s002": its payload is of clip "s001"`},
		{"no clues", queued(t, with(func(si *summarize.Item) { si.Descriptions = nil })), `summarize item "s001": no clues`},
		{"no model, unknown language", queued(t, with(func(si *summarize.Item) { si.Model, si.Lang = "", "fr" })),
			"summarize item \"s001\": no model\nlanguage \"fr\": the prompts are in en or zh"},
		{"negative max tokens", queued(t, with(func(si *summarize.Item) { si.MaxTokens = -1 })), "max tokens -1 is negative"},
		{"clues changed", queued(t, with(func(si *summarize.Item) { si.Descriptions[1] = "He smiles." }), it.Input),
			`summarize item "s001": its clues and settings are not those of its input digest`},
		{"another model", queued(t, with(func(si *summarize.Item) { si.Model = "other" }), it.Input), "not those of its input digest"},
		{"other prompts", queued(t, with(func(si *summarize.Item) { si.PromptSHA256 = strings.Repeat("0", 64) }), it.Input), "not those of its input digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeSummarize(tc.item)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			// The worker gives such an item up and goes on.
			_, err = testWorker("http://127.0.0.1:1/v1", 8).summarize(context.Background(), tc.item)
			if !errors.Is(err, pgstore.ErrBadItem) {
				t.Errorf("worker: err = %v, want ErrBadItem", err)
			}
		})
	}
}

// TestNewerItems: an item with a field this emer does not know was queued
// by another emer version; the worker stops on it (leaving it to a worker
// of that version) rather than give it up, for every kind.
func TestNewerItems(t *testing.T) {
	withField := func(it batch.Item) batch.Item {
		var m map[string]any
		if err := json.Unmarshal(it.Payload, &m); err != nil {
			t.Fatal(err)
		}
		m["novel_setting"] = 0.7
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		it.Payload = b
		return it
	}
	si := queued(t, summarize.NewItem(testSpec, summarize.Clip{Name: "s001", Descriptions: []string{"He frowns."}}))
	ji := JudgeItem{Sample: "s1", System: "sys", Metric: "clue", GT: "gt", Pred: "pred", Protocol: "paper", Model: "m"}
	jb, err := json.Marshal(ji)
	if err != nil {
		t.Fatal(err)
	}
	judgeItem := batch.Item{Key: ji.Key().String(), Input: store.InputSHA256(ji.GT, ji.Pred), Payload: jb}
	w := testWorker("http://127.0.0.1:1/v1", 8)
	for _, tc := range []struct {
		kind string
		it   batch.Item
	}{{KindSummarize, withField(si)}, {KindJudge, withField(judgeItem)}} {
		_, err := w.work(context.Background(), "r", tc.kind, tc.it)
		if err == nil || errors.Is(err, pgstore.ErrBadItem) || !strings.Contains(err.Error(), `unknown field "novel_setting"`) ||
			!strings.Contains(err.Error(), "run the submitter's emer version") {
			t.Errorf("%s item with a newer field: err = %v; want the worker stopped, naming the field", tc.kind, err)
		}
	}
}

// A worker makes the outcome a run on one machine makes, and builds one
// summarizer per spec.
func TestSummarizeItem(t *testing.T) {
	srv := llmtest.NewServer(clueModel)
	defer srv.Close()
	w := testWorker(srv.BaseURL(), 8)
	ctx := context.Background()
	clip := summarize.Clip{Name: "s001", Descriptions: []string{"He frowns and looks down. A dim room."}}
	o, err := w.summarize(ctx, queued(t, summarize.NewItem(testSpec, clip)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := testSpec.Summarizer(llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()})).Outcome(ctx, clip)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("outcome (-local +worker):\n%s", diff)
	}
	var res summarize.Result
	if err := json.Unmarshal(o.Payload, &res); err != nil {
		t.Fatal(err)
	}
	if o.Class != batch.Final || o.Status != summarize.StatusOK ||
		res.Description != "In the video, he frowns and looks down. Therefore, it is inferred that his emotional state is worried." {
		t.Errorf("outcome %s %s, result %+v", o.Class, o.Status, res)
	}
	for _, c := range srv.Calls()[:3] {
		if c.Model != "m" || c.MaxTokens == nil || *c.MaxTokens != 256 {
			t.Errorf("request of model %q, max tokens %v: want the item's m and 256", c.Model, c.MaxTokens)
		}
	}

	other := testSpec
	other.Model = "m2"
	for _, sp := range []summarize.Spec{testSpec, other} {
		if _, err := w.summarize(ctx, queued(t, summarize.NewItem(sp, summarize.Clip{Name: "s002", Descriptions: []string{"He frowns."}}))); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.memo) != 2 {
		t.Errorf("%d summarizers built for two specs", len(w.memo))
	}
}

// An item queued by an emer with other prompts stops the worker (its
// error is not the item's), asking nothing.
func TestSummarizeItemOtherPrompts(t *testing.T) {
	srv := llmtest.NewServer(clueModel)
	defer srv.Close()
	si := summarize.NewItem(testSpec, summarize.Clip{Name: "s001", Descriptions: []string{"He frowns."}})
	si.PromptSHA256 = strings.Repeat("ab", 32)
	_, err := testWorker(srv.BaseURL(), 8).summarize(context.Background(), queued(t, si))
	if err == nil || errors.Is(err, pgstore.ErrBadItem) ||
		!strings.Contains(err.Error(), `summarize item "s001" was queued with prompts of sha256 abababababab, this emer's are `+summarize.PromptsSHA256()[:12]) {
		t.Errorf("err = %v, want a refusal that stops the worker", err)
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// A clip the server fails is of class Retry, to be queued again; when
// the server cannot be reached, the worker stops.
func TestSummarizeItemNoReply(t *testing.T) {
	srv := llmtest.NewServer(func(*llmtest.Call) llmtest.Step {
		return llmtest.Step{Status: 503, Body: `{"error":{"message":"overloaded"}}`}
	})
	defer srv.Close()
	it := queued(t, summarize.NewItem(testSpec, summarize.Clip{Name: "s001", Descriptions: []string{"He frowns."}}))
	o, err := testWorker(srv.BaseURL(), 8).summarize(context.Background(), it)
	if err != nil || o.Class != batch.Retry || o.Status != summarize.StatusRetry {
		t.Errorf("server failing: outcome %s %s, err %v; want a retry", o.Class, o.Status, err)
	}

	srv.Close()
	_, err = testWorker(srv.BaseURL(), 1).summarize(context.Background(), it)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("server gone: err = %v, want ErrUnreachable", err)
	}
}
