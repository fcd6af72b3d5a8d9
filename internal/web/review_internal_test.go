package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
)

func TestEvidenceText(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"none", ``, ``},
		{"empty object", `{}`, ``},
		{"string", `"tears in 12 frames"`, `tears in 12 frames`},
		{"object in its order", `{"z":1,"a":"b"}`, `z: 1; a: b`},
		{"nested", `{"f0":{"clip":180.256,"speaker":150},"voiced":[true,false],"x":null}`, `f0: (clip: 180.3; speaker: 150); voiced: [true, false]; x: none`},
		{"list", `["a",{"b":2}]`, `a, (b: 2)`},
		{"small and large numbers", `[0.000012345,123456789.5,-3]`, `1.234e-05, 1.235e+08, -3`},
		{"bad JSON as it is", `{"a":`, `{"a":`},
		{"long", `"` + strings.Repeat("é", 500) + `"`, strings.Repeat("é", maxEvidence) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evidenceText(json.RawMessage(tc.raw)); got != tc.want {
				t.Errorf("evidenceText(%s) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestPlanChange(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)
	pending := dataset.Review{Clip: "c", Status: dataset.Pending, Draft: "the draft", Flags: []string{"f"}, At: at.Add(-time.Hour)}
	edited := dataset.Review{Clip: "c", Status: dataset.Edited, Draft: "the draft", Text: "mine", Reviewer: "bo", Note: "n", At: at.Add(-time.Hour)}
	nodraft := dataset.Review{Clip: "c", Status: dataset.Pending, At: at.Add(-time.Hour)}
	after := func(st dataset.ReviewStatus, text, note string, flags ...string) *dataset.Review {
		return &dataset.Review{Clip: "c", Status: st, Draft: "the draft", Text: text, Flags: flags, Reviewer: "ann", Note: note, At: dataset.StampTime(at)}
	}
	for _, tc := range []struct {
		name               string
		cur                dataset.Review
		action, text, note string
		want               *dataset.Review // nil: no change
		problem            string
	}{
		{"accept", pending, actAccept, "the draft", "", after(dataset.Accepted, "", "", "f"), ""},
		{"accept with a note, spaces gathered", pending, actAccept, " the draft\r\n", "  seen\n twice ", after(dataset.Accepted, "", "seen twice", "f"), ""},
		{"accept an edited one, its text unchanged", edited, actAccept, "mine", "n", after(dataset.Accepted, "", "n"), ""},
		{"accept a changed text", pending, actAccept, "the draft!", "", nil, "You changed the text"},
		{"accept no draft", nodraft, actAccept, "", "", nil, "There is no draft to accept"},
		{"edit", pending, actEdit, "new\r\ntext ", "", after(dataset.Edited, "new\ntext", "", "f"), ""},
		{"edit to the draft", edited, actEdit, "the draft", "", nil, "This text is the draft as made"},
		{"edit to nothing", pending, actEdit, "\r\n", "", nil, "The description is empty"},
		{"edit as it is", edited, actEdit, "mine", "n", nil, ""},
		{"edit the note only", edited, actEdit, "mine", "other", after(dataset.Edited, "mine", "other"), ""},
		{"edit too long", pending, actEdit, strings.Repeat("a", maxText+1), "", nil, "at most 20000"},
		{"reject", edited, actReject, "mine", "wrong person", after(dataset.Rejected, "", "wrong person"), ""},
		{"reject without a note", pending, actReject, "the draft", " ", nil, "Say in the note why"},
		{"reject a changed text", pending, actReject, "other", "x", nil, "You changed the text, which this would not keep"},
		{"reject no draft", nodraft, actReject, "", "no clues", &dataset.Review{Clip: "c", Status: dataset.Rejected, Reviewer: "ann", Note: "no clues", At: dataset.StampTime(at)}, ""},
		{"reopen", edited, actReopen, "mine", "n", after(dataset.Pending, "", "n"), ""},
		{"reopen a pending one", pending, actReopen, "the draft", "", nil, ""},
		{"unknown", pending, "delete", "the draft", "", nil, "Unknown action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok, err := planChange(tc.cur, tc.action, tc.text, tc.note, "ann", at)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want one saying %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tc.want != nil) != ok {
				t.Fatalf("ok = %v, want %v", ok, tc.want != nil)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(*tc.want, c.After); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
			if c.Clip != "c" || c.By != "ann" || !c.At.Equal(dataset.StampTime(at)) || c.Before == nil || !c.Before.Equal(tc.cur) {
				t.Errorf("change %+v", c)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"/r/TOKEN":            "/r/…",
		"/r/TOKEN/m/0123":     "/r/…/m/0123",
		"/review/TOKEN":       "/review/…",
		"/review/TOKEN/d/c01": "/review/…/d/c01",
		"/admin/review/check": "/admin/review/check",
		"/static/review.js":   "/static/review.js",
		"/reviewTOKEN":        "/reviewTOKEN",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
