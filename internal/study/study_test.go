package study_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"emer/internal/study"
	"emer/internal/study/studytest"
)

func TestOrder(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	ids := []int{0, 1, 2, 3, 4, 5, 6}
	a := study.Order(secret, 1, "c1", ids)
	if !slices.Equal(a, study.Order(secret, 1, "c1", ids)) {
		t.Error("the same rater and clip got two orders")
	}
	if s := slices.Sorted(slices.Values(a)); !slices.Equal(s, ids) {
		t.Errorf("order %v is not a permutation of %v", a, ids)
	}
	// Where the ground truth (id 0) lands, over many raters: every
	// position, none far more often than the others.
	at := make([]int, len(ids))
	const n = 7000
	for r := range int64(n) {
		at[slices.Index(study.Order(secret, r, "c1", ids), 0)]++
	}
	for pos, k := range at {
		if k < n/len(ids)*8/10 || k > n/len(ids)*12/10 {
			t.Errorf("ground truth at position %d for %d of %d raters, want about %d: %v", pos, k, n, n/len(ids), at)
		}
	}
	if slices.Equal(a, study.Order([]byte("another secret"), 1, "c1", ids)) && slices.Equal(a, study.Order([]byte("a third secret"), 1, "c1", ids)) {
		t.Error("the order does not depend on the secret")
	}
}

func TestRanks(t *testing.T) {
	a := study.Ranks(42, 10)
	if !slices.Equal(a, study.Ranks(42, 10)) {
		t.Error("one seed gave two orders")
	}
	if slices.Equal(a, study.Ranks(43, 10)) {
		t.Error("seeds 42 and 43 gave the same order")
	}
	if s := slices.Sorted(slices.Values(a)); !slices.Equal(s, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("ranks %v are not a permutation", a)
	}
}

func TestToken(t *testing.T) {
	a, ha := study.NewToken()
	b, hb := study.NewToken()
	if a == b || ha == hb {
		t.Fatal("two new tokens are equal")
	}
	if len(a) != study.TokenLen || !study.WellFormedToken(a) {
		t.Errorf("token %q: length %d, well formed %v", a, len(a), study.WellFormedToken(a))
	}
	if study.HashToken(a) != ha || strings.Contains(string(ha[:]), a) {
		t.Error("HashToken does not give the hash NewToken gave")
	}
	for _, bad := range []string{"", a[:21], a + "A", strings.Repeat("/", 22), "../../../../etc/passwd"} {
		if study.WellFormedToken(bad) {
			t.Errorf("WellFormedToken(%q) = true", bad)
		}
	}
	for _, bad := range []string{"", "0123456789abcde", "0123456789ABCDEF", "../0123456789abc", "0123456789abcdef0"} {
		if study.WellFormedClipID(bad) {
			t.Errorf("WellFormedClipID(%q) = true", bad)
		}
	}
}

func TestDraftCheck(t *testing.T) {
	good := studytest.Draft("s", 5, 2, "alpha")
	if err := good.Check(); err != nil {
		t.Fatalf("good draft: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(d *study.Draft)
		want string
	}{
		{"no name", func(d *study.Draft) { d.Name = " " }, "the study has no name"},
		{"no raters", func(d *study.Draft) { d.Target = 0 }, "raters per clip 0: want 1 to 1000"},
		{"no clips", func(d *study.Draft) { d.Clips = nil }, "the study has no clips"},
		{"clip twice", func(d *study.Draft) { d.Clips[1].Name = d.Clips[0].Name }, `clip "clip0" is there twice`},
		{"ground truth only", func(d *study.Draft) { d.Clips[0].Candidates = d.Clips[0].Candidates[:1] }, `clip "clip0" has 1 reasonings: want 2 to 64`},
		{"no ground truth", func(d *study.Draft) { d.Clips[0].Candidates[0].Source = "beta" }, `clip "clip0" has no ground truth`},
		{"system twice", func(d *study.Draft) { d.Clips[0].Candidates[0].Source = "alpha" }, `clip "clip0": two reasonings of "alpha"`},
		{"bad system name", func(d *study.Draft) { d.Clips[1].Candidates[1].Source = "<b>x" }, `clip "clip1": "<b>x" is not a system name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := studytest.Draft("s", 5, 2, "alpha")
			tc.edit(&d)
			err := d.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want %q", err, tc.want)
			}
			svc := study.NewService(studytest.NewMem(), 0, nil)
			if _, err := svc.Create(context.Background(), d); err == nil {
				t.Error("Create made a study of a bad draft")
			}
		})
	}
}

// A submission the store cannot write is an error, and nothing of it is
// kept: the clip stays held and can be submitted again.
func TestSubmitNotWritten(t *testing.T) {
	ctx := context.Background()
	mem := studytest.NewMem()
	svc := study.NewService(mem, 0, nil)
	st, err := svc.Create(ctx, studytest.Draft("s", 1, 1, "alpha"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := svc.Invite(ctx, st.ID, []string{"ann"})
	if err != nil {
		t.Fatal(err)
	}
	r := inv[0].Rater
	s, err := svc.Next(ctx, r)
	if err != nil || s.Task == nil {
		t.Fatal(s, err)
	}
	disk := errors.New("disk full")
	mem.Fail = disk
	if err := svc.Submit(ctx, r, s.Task.Clip, []study.Score{1, 2}); !errors.Is(err, disk) {
		t.Fatalf("Submit() = %v, want the store's error", err)
	}
	mem.Fail = nil
	if rs, _ := svc.Ratings(ctx, st.ID); len(rs) != 0 {
		t.Errorf("a failed submission left %d ratings", len(rs))
	}
	if err := svc.Submit(ctx, r, s.Task.Clip, []study.Score{1, 2}); err != nil {
		t.Errorf("submitting again: %v", err)
	}
}
