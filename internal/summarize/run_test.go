package summarize

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/batch"
	"emer/internal/dataset"
	"emer/internal/llm"
)

// scripted answers a clue prompt with its first paragraph, as "He ...".
type scripted struct {
	mu    sync.Mutex
	calls map[string]int // prompt -> times asked
}

func (s *scripted) Chat(_ context.Context, req llm.Request) (llm.Reply, error) {
	p := req.Messages[0].Parts[0].Text
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[p]++
	s.mu.Unlock()
	switch stepOf(p) {
	case StepClues:
		_, rest, _ := strings.Cut(p, "Clue description 1: ")
		first, _, _ := strings.Cut(rest, "\n")
		return text("He " + first), nil
	case StepEmotion:
		if strings.Contains(p, "He odd looks down.") {
			return text("banana"), nil
		}
		return text("sad"), nil
	}
	return text("[sad]"), nil
}

func (s *scripted) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	ledger, reviews := batch.NewMemory(), dataset.NewReviewMemory()
	model := &scripted{}
	s := &Summarizer{Client: model, Model: "m", Lang: English}
	clips := []Clip{
		{Name: "b", Descriptions: []string{"b looks down."}},
		{Name: "a", Descriptions: []string{"a looks down.", "He sighs."}},
		{Name: "odd", Descriptions: []string{"odd looks down."}},
	}
	journal := filepath.Join(t.TempDir(), "steps.jsonl")
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	opts := RunOptions{Run: "summarize", Workers: 2, Journal: journal, Settings: "test", Now: func() time.Time { return at }}
	rep, err := Run(ctx, ledger, reviews, s, clips, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ran != 3 || rep.ByStatus[StatusOK] != 2 || rep.ByStatus[StatusReview] != 1 || rep.Drafted != 3 {
		t.Errorf("report %+v", rep)
	}
	if model.total() != 9 {
		t.Errorf("%d calls, want 3 clips x 3", model.total())
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name+":"+r.Status)
	}
	if got := strings.Join(names, " "); got != "a:ok b:ok odd:review" {
		t.Errorf("results %s", got)
	}
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("journal has %d lines, want 3", len(lines))
	}
	var first Result
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || len(first.Steps) != 3 {
		t.Errorf("journal line 1: %v, %+v", err, first)
	}

	rs, _ := reviews.Reviews(ctx)
	want := []dataset.Review{
		{Clip: "a", Status: dataset.Pending, Draft: "In the video, he a looks down. Therefore, it is inferred that his emotional state is sad.", At: at},
		{Clip: "b", Status: dataset.Pending, Draft: "In the video, he b looks down. Therefore, it is inferred that his emotional state is sad.", At: at},
		{Clip: "odd", Status: dataset.Pending, Draft: "In the video, he odd looks down. Therefore, it is inferred that his emotional state is banana.",
			Flags: []string{"emotion: " + ReasonNoEmotionWord + ": banana"}, At: at},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}

	// A reviewer accepts b; a rerun makes no call and leaves the reviews.
	acc := rs[1]
	acc.Status, acc.Reviewer, acc.At = dataset.Accepted, "ann", at.Add(time.Hour)
	if err := reviews.ApplyReviews(ctx, []dataset.Change{{Clip: "b", By: "ann", At: acc.At, Before: &rs[1], After: acc}}); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(ctx, ledger, reviews, s, clips, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ran != 0 || rep.Skipped != 3 || rep.Drafted != 0 || model.total() != 9 {
		t.Errorf("rerun: %+v, %d calls", rep, model.total())
	}

	// New clues for b: it is summarized again, and its new draft goes back
	// to pending.
	clips[0].Descriptions = []string{"b looks up."}
	if rep, err = Run(ctx, ledger, reviews, s, clips, opts); err != nil {
		t.Fatal(err)
	}
	if rep.Ran != 1 || model.total() != 12 || rep.Drafted != 1 {
		t.Errorf("after new clues: %+v, %d calls", rep, model.total())
	}
	rs, _ = reviews.Reviews(ctx)
	if want := "In the video, he b looks up. Therefore, it is inferred that his emotional state is sad."; rs[1].Status != dataset.Pending || rs[1].Draft != want || rs[1].Reviewer != "" {
		t.Errorf("b after new clues: %+v, want pending with %q", rs[1], want)
	}
	if h, _ := reviews.History(ctx, "b"); len(h) != 3 || h[2].Before.Status != dataset.Accepted {
		t.Errorf("history of b: %+v, want draft, acceptance, new draft", h)
	}
}

// A run cut short records what it finished and puts it into review.
func TestRunInterrupted(t *testing.T) {
	ledger, reviews := batch.NewMemory(), dataset.NewReviewMemory()
	ctx, cancel := context.WithCancel(context.Background())
	gate := &cancelAfter{n: 4, cancel: cancel, next: &scripted{}}
	s := &Summarizer{Client: gate, Model: "m", Lang: English}
	clips := []Clip{{Name: "a", Descriptions: []string{"a x"}}, {Name: "b", Descriptions: []string{"b x"}}}
	rep, err := Run(ctx, ledger, reviews, s, clips, RunOptions{Run: "r", Workers: 1, Settings: "t"})
	if err == nil || !strings.Contains(err.Error(), batch.ErrInterrupted.Error()) {
		t.Fatalf("err = %v, want interrupted", err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Name != "a" || rep.Drafted != 1 {
		t.Errorf("report %+v", rep)
	}
}

// cancelAfter cancels the run once n calls have been answered (with one
// worker, the first call of the second clip), and answers no more.
type cancelAfter struct {
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
	next   llm.Client
}

func (c *cancelAfter) Chat(ctx context.Context, req llm.Request) (llm.Reply, error) {
	c.mu.Lock()
	c.n--
	n := c.n
	c.mu.Unlock()
	if n < 0 {
		return llm.Reply{}, ctx.Err()
	}
	r, err := c.next.Chat(ctx, req)
	if n == 0 {
		c.cancel()
	}
	return r, err
}
