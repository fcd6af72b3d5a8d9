package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/grounding"
)

// checkOutput is the JSON of emer build check, decoded.
type checkOutput struct {
	Clips []struct {
		Name   string            `json:"name"`
		Claims []grounding.Claim `json:"claims"`
	} `json:"clips"`
	Totals grounding.Totals `json:"totals"`
}

func decodeCheck(t *testing.T, out string) checkOutput {
	t.Helper()
	var c checkOutput
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%v: %.300s", err, out)
	}
	var sum grounding.Totals
	for _, clip := range c.Clips {
		sum.Add(grounding.Count(clip.Claims))
	}
	if diff := cmp.Diff(sum, c.Totals); diff != "" {
		t.Errorf("totals are not those of the claims (-claims +totals):\n%s", diff)
	}
	return c
}

// TestBuildCheckClips checks descriptions written for clips of known
// content: a smiling or a neutral face, speech at an even level, quiet,
// with a quieter or a louder stretch, chords alone or under the speech.
func TestBuildCheckClips(t *testing.T) {
	dir := t.TempDir()
	groundClips(t, dir,
		clipSpec{name: "plain", face: "happy", speech: true},
		clipSpec{name: "quiet", face: "neutral", speech: true, afilter: "volume=0.02"},
		clipSpec{name: "softer", face: "neutral", speech: true, afilter: "volume=volume=0.25:enable='between(t,3.2,4.4)'"},
		clipSpec{name: "louder", face: "happy", speech: true, afilter: "volume=0.25,volume=volume=4:enable='between(t,3.2,4.4)'"},
		clipSpec{name: "music", face: "neutral"},
		clipSpec{name: "mixed", face: "happy", speech: true, chordsGain: 0.3},
	)
	type claim struct{ Text, Aspect, Verdict string }
	S, C, U := grounding.Supported, grounding.Contradicted, grounding.Unverifiable
	V, A, T, X, I := grounding.Visual, grounding.Audio, grounding.Content, grounding.Context, grounding.Inference
	tests := []struct {
		clip, description string
		want              []claim
	}{
		{"plain", `In the video, he smiled. He did not smile. There is background music. He said "glad to see you". He said "I hate this place". He was sitting in an office. Therefore, it is inferred that his emotional state is happy.`,
			[]claim{{"he smiled", V, S}, {"He did not smile", V, C}, {"There is background music", A, C},
				{`He said "glad to see you"`, T, S}, {`He said "I hate this place"`, T, C},
				{"He was sitting in an office", X, U}, {"it is inferred that his emotional state is happy", I, U}}},
		{"quiet", `He smiled, and he spoke loudly. He spoke softly. 他面带微笑，没有背景音乐。`,
			[]claim{{"He smiled", V, C}, {"he spoke loudly", A, C}, {"He spoke softly", A, S}, {"他面带微笑", V, C}, {"没有背景音乐", A, S}}},
		{"softer", `He spoke loudly. His face was expressionless.`,
			[]claim{{"He spoke loudly", A, C}, {"His face was expressionless", V, S}}},
		{"louder", `He raised his voice. He whispered. He smiled.`,
			[]claim{{"He raised his voice", A, S}, {"He whispered", A, C}, {"He smiled", V, S}}},
		{"music", `Background music plays. He frowned.`,
			[]claim{{"Background music plays", A, S}, {"He frowned", V, C}}},
		{"mixed", `Soft background music is playing. 没有背景音乐。He smiled.`,
			[]claim{{"Soft background music is playing", A, S}, {"没有背景音乐", A, C}, {"He smiled", V, S}}},
	}
	pred := [][]string{{"names", "reasons"}}
	subs := [][]string{{"names", "subtitles"}}
	for _, tt := range tests {
		pred = append(pred, []string{tt.clip, tt.description})
		sub := groundSpeech
		if tt.clip == "music" {
			sub = ""
		}
		subs = append(subs, []string{tt.clip, sub})
	}
	writeCSV(t, filepath.Join(dir, "pred.csv"), pred...)
	writeCSV(t, filepath.Join(dir, "subs.csv"), subs...)

	code, out, errOut := run(t, "build", "check", "--pred", filepath.Join(dir, "pred.csv"), "--media", dir, "--dataset", filepath.Join(dir, "subs.csv"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := decodeCheck(t, out)
	if len(got.Clips) != len(tests) {
		t.Fatalf("%d clips, want %d", len(got.Clips), len(tests))
	}
	var s, c int
	for i, tt := range tests {
		t.Run(tt.clip, func(t *testing.T) {
			gc := got.Clips[i]
			if gc.Name != tt.clip {
				t.Fatalf("clip %d is %s, want %s", i, gc.Name, tt.clip)
			}
			var claims []claim
			for _, cl := range gc.Claims {
				claims = append(claims, claim{cl.Text, cl.Aspect, cl.Verdict})
			}
			if diff := cmp.Diff(tt.want, claims); diff != "" {
				ev, _ := json.MarshalIndent(gc.Claims, "", " ")
				t.Errorf("claims (-want +got):\n%s\n%s", diff, ev)
			}
		})
		for _, cl := range tt.want {
			switch cl.Verdict {
			case S:
				s++
			case C:
				c++
			}
		}
	}
	if r := got.Totals.GroundedRate; r == nil || math.Abs(*r-float64(s)/float64(s+c)) > 1e-12 {
		t.Errorf("grounded rate %v, want %d/%d", r, s, s+c)
	}
	// The quieter stretch is the evidence against "spoke loudly".
	ev := got.Clips[2].Claims[0].Evidence
	q, _ := ev["quieter"].([]any)
	if len(q) == 0 || ev["rule"] != "voice.loud" {
		t.Errorf("softer: evidence %v has no quieter stretch", ev)
	} else if ch := q[0].(map[string]any)["change"].(float64); ch > -6 {
		t.Errorf("softer: quieter by %v dB, want at least 6", ch)
	}

	// The text form says the same.
	code, text, errOut := run(t, "build", "check", "--pred", filepath.Join(dir, "pred.csv"), "--media", dir, "--dataset", filepath.Join(dir, "subs.csv"), "--verbose")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"contradicted visual    He did not smile  (face.smile)", "grounded-claim rate " + rateText(got.Totals.GroundedRate)} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

// TestBuildCheckPredictions checks the six EMER-V1 baselines' Chinese
// predictions without media: claims found in every aspect, every one
// unverifiable.
func TestBuildCheckPredictions(t *testing.T) {
	dir := sharedData(t, "emer-v1", "predictions-zh")
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil || len(files) != 6 {
		t.Fatalf("%d prediction files in %s (%v), want 6", len(files), dir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errOut := run(t, "build", "check", "--pred", f, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got := decodeCheck(t, out)
			if len(got.Clips) != 100 {
				t.Errorf("%d clips, want 100", len(got.Clips))
			}
			byAspect := map[string]int{}
			for _, c := range got.Clips {
				for _, cl := range c.Claims {
					byAspect[cl.Aspect]++
					if cl.Verdict != grounding.Unverifiable || cl.Evidence == nil {
						t.Errorf("%s: %q is %s (evidence %v) without media", c.Name, cl.Text, cl.Verdict, cl.Evidence)
					}
				}
			}
			for _, a := range []string{grounding.Visual, grounding.Content, grounding.Context, grounding.Inference} {
				if byAspect[a] == 0 {
					t.Errorf("no %s claim found", a)
				}
			}
			if got.Totals.GroundedRate != nil || got.Totals.Unverifiable != got.Totals.Claims {
				t.Errorf("totals %+v, want every claim unverifiable and no rate", got.Totals)
			}
			t.Logf("%d claims: %v", got.Totals.Claims, byAspect)
		})
	}
}

// TestBuildCheckMissingMedia checks that a clip without media, or with
// broken media, is reported, its claims unverifiable, and the command
// exits 1 after checking the others.
func TestBuildCheckMissingMedia(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.mp4"), []byte("not a video at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeCSV(t, filepath.Join(dir, "pred.csv"), []string{"name", "english"}, []string{"ghost", "He smiled. He sat in a car."}, []string{"broken", "He frowned."})
	code, out, errOut := run(t, "build", "check", "--pred", filepath.Join(dir, "pred.csv"), "--media", dir, "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	if !strings.Contains(errOut, "ghost") || !strings.Contains(errOut, "no media file") || !strings.Contains(errOut, "broken") {
		t.Errorf("stderr does not name the clips without media and with broken media: %s", errOut)
	}
	got := decodeCheck(t, out)
	if len(got.Clips) != 2 || len(got.Clips[0].Claims) != 2 || len(got.Clips[1].Claims) != 1 {
		t.Fatalf("clips %+v, want ghost with 2 claims and broken with 1", got.Clips)
	}
	for _, c := range got.Clips {
		for _, cl := range c.Claims {
			if cl.Verdict != grounding.Unverifiable {
				t.Errorf("%s: %q is %s", c.Name, cl.Text, cl.Verdict)
			}
		}
	}
	for _, c := range []int{0, 1} {
		if r, _ := got.Clips[c].Claims[0].Evidence["reason"].(string); !strings.Contains(r, "could not be measured") {
			t.Errorf("%s: reason %q does not say the clip could not be measured", got.Clips[c].Name, r)
		}
	}
}

func TestBuildCheckUsage(t *testing.T) {
	dir := t.TempDir()
	pred := filepath.Join(dir, "pred.csv")
	writeCSV(t, pred, []string{"names", "reasons"}, []string{"a", "He smiled."})
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no pred", []string{}, 2, "pred"},
		{"dataset without media", []string{"--pred", pred, "--dataset", pred}, 2, "--media"},
		{"unknown column", []string{"--pred", pred, "--column", "chinese"}, 1, "pred.csv:1: missing column"},
		{"media not a folder", []string{"--pred", pred, "--media", pred}, 1, "is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"build", "check"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}
