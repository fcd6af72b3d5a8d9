package study

import (
	"context"
	"time"
)

// Progress is how far a study has come, for its organizer.
type Progress struct {
	Study  Study
	Clips  []ClipProgress  // by rank
	Raters []RaterProgress // by ID
	Done   int             // completions, at most Target per clip counted
	Wanted int             // clips × Target
}

// ClipProgress is one clip's ratings.
type ClipProgress struct {
	Clip Clip
	Done int // completions
	Held int // holds that have not expired
}

// RaterProgress is one rater's work.
type RaterProgress struct {
	Rater   Rater
	Done    int
	Holding string    // the clip held, "" when none or expired
	Expires time.Time // of the hold
	Last    time.Time // of the latest completion; zero when none
}

// Studies returns every study, by ID.
func (s *Service) Studies(ctx context.Context) ([]Study, error) {
	var out []Study
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Studies()
		return err
	})
	return out, err
}

// Progress returns a study's progress.
func (s *Service) Progress(ctx context.Context, id int64) (Progress, error) {
	var p Progress
	err := s.store.View(ctx, func(tx Tx) error {
		p = Progress{}
		var err error
		if p.Study, err = tx.Study(id); err != nil {
			return err
		}
		now := s.now()
		clips, err := tx.Clips(id)
		if err != nil {
			return err
		}
		loads, err := tx.Loads(id, 0, now)
		if err != nil {
			return err
		}
		load := make(map[string]Load, len(loads))
		for _, l := range loads {
			load[l.Clip] = l
		}
		for _, c := range clips {
			l := load[c.ID]
			p.Clips = append(p.Clips, ClipProgress{Clip: c, Done: l.Done, Held: l.Held})
			p.Done += min(l.Done, p.Study.Target)
			p.Wanted += p.Study.Target
		}
		raters, err := tx.Raters(id)
		if err != nil {
			return err
		}
		holds, err := tx.Holds(id)
		if err != nil {
			return err
		}
		hold := make(map[int64]Hold, len(holds))
		for _, h := range holds {
			hold[h.Rater] = h
		}
		comps, err := tx.Completions(id)
		if err != nil {
			return err
		}
		byRater := map[int64][]Completion{}
		for _, c := range comps {
			byRater[c.Rater] = append(byRater[c.Rater], c)
		}
		for _, r := range raters {
			rp := RaterProgress{Rater: r, Done: len(byRater[r.ID])}
			if h, ok := hold[r.ID]; ok && now.Before(h.Expires) {
				rp.Holding, rp.Expires = h.Clip, h.Expires
			}
			for _, c := range byRater[r.ID] {
				if c.At.After(rp.Last) {
					rp.Last = c.At
				}
			}
			p.Raters = append(p.Raters, rp)
		}
		return nil
	})
	return p, err
}

// Rating is one score with everything needed to analyse it.
type Rating struct {
	Rater    Rater
	Clip     Clip
	Source   string // GroundTruth or the system
	Position int    // 0-based place in the order shown
	Score    Score
	At       time.Time
}

// Ratings returns every score of a study, by completion time, rater and
// position.
func (s *Service) Ratings(ctx context.Context, id int64) ([]Rating, error) {
	var out []Rating
	err := s.store.View(ctx, func(tx Tx) error {
		out = out[:0]
		clips, err := tx.Clips(id)
		if err != nil {
			return err
		}
		clip := map[string]Clip{}
		source := map[string]map[int]string{}
		for _, c := range clips {
			clip[c.ID] = c
			cands, err := tx.Candidates(id, c.ID)
			if err != nil {
				return err
			}
			source[c.ID] = map[int]string{}
			for _, k := range cands {
				source[c.ID][k.ID] = k.Source
			}
		}
		raters, err := tx.Raters(id)
		if err != nil {
			return err
		}
		rater := map[int64]Rater{}
		for _, r := range raters {
			rater[r.ID] = r
		}
		comps, err := tx.Completions(id)
		if err != nil {
			return err
		}
		for _, c := range comps {
			for i, cand := range c.Shown {
				out = append(out, Rating{Rater: rater[c.Rater], Clip: clip[c.Clip], Source: source[c.Clip][cand], Position: i, Score: c.Scores[i], At: c.At})
			}
		}
		return nil
	})
	return out, err
}
