package studytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/study"
)

// Clock is a settable time for a Service.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Draft returns a study of n clips named clip0.. with the ground truth
// and the given systems, each text naming its clip and source.
func Draft(name string, target, n int, systems ...string) study.Draft {
	d := study.Draft{Name: name, Target: target, Seed: 7, Sources: study.Sources{Clips: "/clips", GroundTruth: "/gt.csv"}}
	for _, s := range systems {
		d.Sources.Predictions = append(d.Sources.Predictions, study.NamedFile{Name: s, Path: "/" + s + ".csv"})
	}
	for i := range n {
		c := study.DraftClip{Name: fmt.Sprintf("clip%d", i), Media: fmt.Sprintf("/clips/clip%d.mp4", i),
			Subtitles: study.Subtitles{Text: fmt.Sprintf("words of clip %d", i)}}
		c.Candidates = append(c.Candidates, study.DraftCandidate{Source: study.GroundTruth, Text: fmt.Sprintf("truth of clip%d", i)})
		for _, s := range systems {
			c.Candidates = append(c.Candidates, study.DraftCandidate{Source: s, Text: fmt.Sprintf("%s on clip%d", s, i)})
		}
		d.Clips = append(d.Clips, c)
	}
	return d
}

// Scores returns n scores, all s.
func Scores(n int, s study.Score) []study.Score {
	out := make([]study.Score, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// Run tests a study.Store through a Service: open returns a new, empty
// store for each test.
func Run(t *testing.T, open func(t *testing.T) study.Store) {
	ctx := context.Background()
	setup := func(t *testing.T, target, clips, raters int) (*study.Service, *Clock, study.Study, []study.Rater, []string) {
		t.Helper()
		clock := NewClock()
		svc := study.NewService(open(t), 30*time.Minute, clock.Now)
		st, err := svc.Create(ctx, Draft("s", target, clips, "alpha", "beta"))
		if err != nil {
			t.Fatal(err)
		}
		inv, err := svc.Invite(ctx, st.ID, make([]string, raters))
		if err != nil {
			t.Fatal(err)
		}
		var rs []study.Rater
		var toks []string
		for _, i := range inv {
			rs = append(rs, i.Rater)
			toks = append(toks, i.Token)
		}
		return svc, clock, st, rs, toks
	}
	next := func(t *testing.T, svc *study.Service, r study.Rater) study.Status {
		t.Helper()
		s, err := svc.Next(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// clipOf returns the name of a task's clip through its texts.
	clipName := func(s study.Status) string {
		if s.Task == nil {
			return "none"
		}
		for _, x := range s.Task.Texts {
			var n int
			if _, err := fmt.Sscanf(x, "truth of clip%d", &n); err == nil {
				return fmt.Sprintf("clip%d", n)
			}
		}
		return "?"
	}
	byRank := func(t *testing.T, svc *study.Service, st study.Study) []string {
		t.Helper()
		p, err := svc.Progress(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range p.Clips {
			out = append(out, c.Clip.Name)
		}
		return out
	}

	t.Run("create and progress", func(t *testing.T) {
		svc, _, st, _, _ := setup(t, 2, 3, 2)
		p, err := svc.Progress(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Done != 0 || p.Wanted != 6 || len(p.Clips) != 3 || len(p.Raters) != 2 {
			t.Errorf("progress: done %d wanted %d, %d clips, %d raters; want 0, 6, 3, 2", p.Done, p.Wanted, len(p.Clips), len(p.Raters))
		}
		if p.Raters[0].Rater.Label != "rater 1" || p.Raters[1].Rater.Label != "rater 2" {
			t.Errorf("labels %q %q", p.Raters[0].Rater.Label, p.Raters[1].Rater.Label)
		}
		sts, err := svc.Studies(ctx)
		if err != nil || len(sts) != 1 || sts[0].Name != "s" || sts[0].Target != 2 || len(sts[0].Secret) != 32 {
			t.Errorf("Studies() = %+v, %v", sts, err)
		}
		if diff := cmp.Diff(st.Sources, sts[0].Sources); diff != "" {
			t.Errorf("sources (-made +stored):\n%s", diff)
		}
		for i, c := range p.Clips {
			if c.Clip.Rank != i || !study.WellFormedClipID(c.Clip.ID) {
				t.Errorf("clip %d: rank %d, id %q", i, c.Clip.Rank, c.Clip.ID)
			}
			if c.Clip.Subtitles.Text == "" {
				t.Errorf("clip %s lost its subtitles", c.Clip.Name)
			}
		}
	})

	t.Run("rater by token", func(t *testing.T) {
		svc, _, _, rs, toks := setup(t, 2, 1, 2)
		for i, tok := range toks {
			r, err := svc.Rater(ctx, tok)
			if err != nil || r.ID != rs[i].ID {
				t.Errorf("Rater(token %d) = %d, %v; want %d", i, r.ID, err, rs[i].ID)
			}
		}
		other, _ := study.NewToken()
		for _, tok := range []string{other, "", "short", toks[0] + "x", toks[0][:len(toks[0])-1] + "!"} {
			if _, err := svc.Rater(ctx, tok); !errors.Is(err, study.ErrNotFound) {
				t.Errorf("Rater(%q) error %v, want ErrNotFound", tok, err)
			}
		}
	})

	t.Run("least rated first, holds counted, capped at the target", func(t *testing.T) {
		svc, clock, st, rs, _ := setup(t, 2, 3, 7)
		order := byRank(t, svc, st)
		var got []string
		for _, r := range rs[:6] {
			got = append(got, clipName(next(t, svc, r)))
		}
		want := []string{order[0], order[1], order[2], order[0], order[1], order[2]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("clips handed out (-want +got):\n%s", diff)
		}
		s := next(t, svc, rs[6])
		if s.Task != nil || !s.None.Busy {
			t.Errorf("seventh rater: task %v busy %v; want none, busy", clipName(s), s.None.Busy)
		}
		// The first rater's clip is done; the others' holds run out but
		// for the fourth's, renewed.
		if err := svc.Submit(ctx, rs[0], s0(t, svc, rs[0]), Scores(3, 3)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(20 * time.Minute)
		next(t, svc, rs[3])
		clock.Advance(20 * time.Minute)
		// order[0]: 1 done + 1 held; order[1], order[2]: nothing live.
		got = []string{clipName(next(t, svc, rs[6]))}
		if got[0] != order[1] {
			t.Errorf("after holds ran out the seventh rater got %s, want %s", got[0], order[1])
		}
		p, err := svc.Progress(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		var held []int
		for _, c := range p.Clips {
			held = append(held, c.Done*10+c.Held)
		}
		if diff := cmp.Diff([]int{11, 1, 0}, held); diff != "" {
			t.Errorf("done×10+held by rank (-want +got):\n%s", diff)
		}
	})

	t.Run("hold renewed on every visit, same order", func(t *testing.T) {
		svc, clock, _, rs, _ := setup(t, 1, 2, 2)
		a := next(t, svc, rs[0])
		clock.Advance(25 * time.Minute)
		b := next(t, svc, rs[0])
		clock.Advance(25 * time.Minute) // 50 min after the first visit, 25 after the second
		if s := next(t, svc, rs[1]); clipName(s) == clipName(a) {
			t.Errorf("a renewed hold was handed to another rater")
		}
		if diff := cmp.Diff(a.Task.Texts, b.Task.Texts); diff != "" {
			t.Errorf("second visit shows another order (-first +second):\n%s", diff)
		}
		if !b.Task.Expires.Equal(clock.Now().Add(5 * time.Minute)) {
			t.Errorf("hold expires %v, want %v", b.Task.Expires, clock.Now().Add(5*time.Minute))
		}
	})

	t.Run("a hold that ran out goes to another rater", func(t *testing.T) {
		svc, clock, _, rs, _ := setup(t, 1, 1, 2)
		a := next(t, svc, rs[0])
		if s := next(t, svc, rs[1]); s.Task != nil || !s.None.Busy {
			t.Fatalf("second rater got %s while the clip was held", clipName(s))
		}
		clock.Advance(31 * time.Minute)
		b := next(t, svc, rs[1])
		if clipName(b) != clipName(a) {
			t.Fatalf("second rater got %s after the hold ran out, want %s", clipName(b), clipName(a))
		}
		if err := svc.Submit(ctx, rs[0], a.Task.Clip, Scores(3, 2)); !errors.Is(err, study.ErrTaken) {
			t.Errorf("late submission: %v, want ErrTaken", err)
		}
		if err := svc.Submit(ctx, rs[1], b.Task.Clip, Scores(3, 2)); err != nil {
			t.Errorf("the new holder's submission: %v", err)
		}
		if s := next(t, svc, rs[0]); s.Task != nil || s.None.Busy || s.Rated != 0 || s.Open != 0 {
			t.Errorf("first rater after the clip is done: %+v, want nothing left, not busy", s)
		}
	})

	t.Run("a hold that ran out and was not taken is still good", func(t *testing.T) {
		svc, clock, _, rs, _ := setup(t, 1, 1, 1)
		a := next(t, svc, rs[0])
		clock.Advance(2 * time.Hour)
		if err := svc.Submit(ctx, rs[0], a.Task.Clip, Scores(3, 4)); err != nil {
			t.Errorf("late submission of an untaken clip: %v", err)
		}
	})

	t.Run("submissions refused", func(t *testing.T) {
		svc, _, _, rs, _ := setup(t, 2, 2, 2)
		a := next(t, svc, rs[0])
		b := next(t, svc, rs[1])
		var inc *study.IncompleteError
		for _, tc := range []struct {
			name   string
			scores []study.Score
			miss   []int
		}{
			{"none", nil, []int{0, 1, 2}},
			{"one missing", []study.Score{1, 0, 4}, []int{1}},
			{"out of range", []study.Score{5, 2, -1}, []int{0, 2}},
			{"too many", []study.Score{1, 2, 3, 4}, nil},
		} {
			err := svc.Submit(ctx, rs[0], a.Task.Clip, tc.scores)
			if !errors.As(err, &inc) || !slices.Equal(inc.Missing, tc.miss) {
				t.Errorf("%s: %v, want missing %v", tc.name, err, tc.miss)
			}
		}
		if err := svc.Submit(ctx, rs[0], b.Task.Clip, Scores(3, 1)); !errors.Is(err, study.ErrNotAssigned) {
			t.Errorf("another rater's clip: %v, want ErrNotAssigned", err)
		}
		if err := svc.Submit(ctx, rs[0], "0000000000000000", Scores(3, 1)); !errors.Is(err, study.ErrNotAssigned) {
			t.Errorf("no such clip: %v, want ErrNotAssigned", err)
		}
		if err := svc.Submit(ctx, rs[0], a.Task.Clip, []study.Score{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Submit(ctx, rs[0], a.Task.Clip, []study.Score{4, 4, 4}); !errors.Is(err, study.ErrAlreadyDone) {
			t.Errorf("second submission of a clip: %v, want ErrAlreadyDone", err)
		}
	})

	t.Run("order shown is recorded with the scores", func(t *testing.T) {
		svc, _, st, rs, _ := setup(t, 2, 2, 2)
		want := map[string]study.Score{}
		for i, r := range rs {
			s := next(t, svc, r)
			scores := make([]study.Score, len(s.Task.Texts))
			for j, text := range s.Task.Texts {
				scores[j] = study.Score(1 + (i+j)%4)
				want[fmt.Sprintf("%s|%s", r.Label, text)] = scores[j]
			}
			if err := svc.Submit(ctx, r, s.Task.Clip, scores); err != nil {
				t.Fatal(err)
			}
		}
		ratings, err := svc.Ratings(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]study.Score{}
		for _, rt := range ratings {
			// The candidate's text is rebuilt from its source and clip.
			text := fmt.Sprintf("%s on %s", rt.Source, rt.Clip.Name)
			if rt.Source == study.GroundTruth {
				text = "truth of " + rt.Clip.Name
			}
			got[fmt.Sprintf("%s|%s", rt.Rater.Label, text)] = rt.Score
			ids := make([]int, 3)
			for k := range ids {
				ids[k] = k
			}
			shown := study.Order(st.Secret, rt.Rater.ID, rt.Clip.ID, ids)
			if src := []string{study.GroundTruth, "alpha", "beta"}[shown[rt.Position]]; src != rt.Source {
				t.Errorf("%s, %s, position %d: source %s, but the blind order puts %s there", rt.Rater.Label, rt.Clip.Name, rt.Position, rt.Source, src)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("scores by rater and text (-submitted +stored):\n%s", diff)
		}
	})

	t.Run("media only of the rater's own clips", func(t *testing.T) {
		svc, _, _, rs, _ := setup(t, 1, 3, 2)
		a := next(t, svc, rs[0])
		b := next(t, svc, rs[1])
		if c, err := svc.MediaClip(ctx, rs[0], a.Task.Clip); err != nil || c.Media == "" {
			t.Errorf("own held clip: %+v, %v", c, err)
		}
		if _, err := svc.MediaClip(ctx, rs[0], b.Task.Clip); !errors.Is(err, study.ErrNotFound) {
			t.Errorf("another rater's clip: %v, want ErrNotFound", err)
		}
		if err := svc.Submit(ctx, rs[0], a.Task.Clip, Scores(3, 2)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MediaClip(ctx, rs[0], a.Task.Clip); err != nil {
			t.Errorf("own rated clip: %v", err)
		}
	})

	t.Run("every clip done", func(t *testing.T) {
		svc, _, st, rs, _ := setup(t, 1, 2, 1)
		for range 2 {
			s := next(t, svc, rs[0])
			if err := svc.Submit(ctx, rs[0], s.Task.Clip, Scores(3, 4)); err != nil {
				t.Fatal(err)
			}
		}
		s := next(t, svc, rs[0])
		if s.Task != nil || s.None.Busy || s.Rated != 2 || s.Open != 0 {
			t.Errorf("status %+v, want nothing left, 2 rated", s)
		}
		p, err := svc.Progress(ctx, st.ID)
		if err != nil || p.Done != 2 || p.Wanted != 2 || p.Raters[0].Done != 2 {
			t.Errorf("progress %d/%d, rater %d, %v", p.Done, p.Wanted, p.Raters[0].Done, err)
		}
	})
}

// s0 returns the clip rater r holds.
func s0(t *testing.T, svc *study.Service, r study.Rater) string {
	t.Helper()
	s, err := svc.Next(context.Background(), r)
	if err != nil || s.Task == nil {
		t.Fatalf("rater %d holds nothing: %v", r.ID, err)
	}
	return s.Task.Clip
}
