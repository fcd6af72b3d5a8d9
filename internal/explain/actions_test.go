package explain

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/actions"
	"emer/internal/cues"
	"emer/internal/face"
	"emer/internal/sharedtest"
	"emer/internal/voice"
)

// face measured from 0 to 9.5 s at 2 frames a second, in a 10 s clip.
func measured(evs ...actions.Event) faceActions {
	return faceActions{events: evs, track: 1, fps: 2, from: 0, to: 9.5, duration: 10}
}

func TestActionClues(t *testing.T) {
	tests := []struct {
		ev         actions.Event
		en, zh     string
		au, unit   string
		threshold  float64
		times      float64
		measure    string
		start, end float64 // the clue's: the last frame lasts 0.5 s
	}{
		{actions.Event{Action: actions.BrowRaise, Start: 1, End: 2, Magnitude: 0.2, Track: 1},
			"he raised his eyebrows", "他眉毛抬起", "AU1+AU2", "fraction of the neutral brow height", 0.10, 2,
			"eyebrows raised 1–2 s, +20 % of the neutral brow height", 1, 2.5},
		{actions.Event{Action: actions.BrowLower, Start: 1, End: 2, Magnitude: 0.15, Track: 1},
			"he furrowed his brows", "他皱眉，眉头紧锁", "AU4", "fraction of the neutral brow height and gap", 0.10, 1.5,
			"brows lowered and drawn together 1–2 s, -15 % of the neutral brow height and gap", 1, 2.5},
		{actions.Event{Action: actions.EyeWiden, Start: 1, End: 2, Magnitude: 0.3, Track: 1},
			"he widened his eyes", "他瞪大眼睛", "AU5", "fraction of the neutral eye opening", 0.15, 2,
			"eyes widened 1–2 s, +30 % of the neutral eye opening", 1, 2.5},
		{actions.Event{Action: actions.EyeClose, Start: 1, End: 2.5, Magnitude: 0.8, Track: 1},
			"he closed his eyes", "他闭上眼睛", "AU43", "share of the eye shut against the neutral opening", 0.5, 1.6,
			"eyes closed 1–2.5 s, 80 % shut", 1, 3},
		{actions.Event{Action: actions.Smile, Start: 1, End: 2.5, Magnitude: 0.12, Track: 1},
			"he smiled, the corners of his mouth turned up", "他面带微笑，嘴角上扬", "AU12", "fraction of the neutral mouth width", 0.06, 2,
			"smiled 1–2.5 s, lip corners up and out by 12 % of the neutral mouth width", 1, 3},
		{actions.Event{Action: actions.LipCornerDepress, Start: 1, End: 2, Magnitude: 0.1, Track: 1},
			"the corners of his mouth turned down", "他嘴角下垂", "AU15", "fraction of the neutral mouth width", 0.05, 2,
			"lip corners pulled down 1–2 s, by 10 % of the neutral mouth width", 1, 2.5},
		{actions.Event{Action: actions.MouthOpen, Start: 1, End: 2, Magnitude: 0.24, Track: 1},
			"he opened his mouth", "他嘴巴张开", "AU25", "lip gap over the mouth width, above the neutral", 0.12, 2,
			"lips parted 1–2 s, opening by 24 % of the mouth width", 1, 2.5},
		{actions.Event{Action: actions.JawDrop, Start: 1, End: 2, Magnitude: 0.2, Track: 1},
			"he opened his mouth wide", "他张大嘴巴", "AU26+AU27", "fraction of the neutral chin depth", 0.10, 2,
			"jaw dropped 1–2 s, chin 20 % lower than neutral", 1, 2.5},
		{actions.Event{Action: actions.LipPress, Start: 1, End: 2, Magnitude: 0.5, Track: 1},
			"he pressed his lips together", "他抿着嘴", "AU24", "fraction of the neutral lip height", 0.25, 2,
			"lips pressed 1–2 s, -50 % of the neutral lip height", 1, 2.5},
		{actions.Event{Action: actions.Nod, Start: 1, End: 2, Magnitude: 12, Track: 1},
			"he nodded", "他点头", "head nod (pitch)", "degrees of swing", 6, 2,
			"nodded 1–2 s, swings of up to 12° in pitch", 1, 2.5},
		{actions.Event{Action: actions.HeadShake, Start: 1, End: 2.5, Magnitude: 24, Track: 1},
			"he shook his head", "他摇头", "head shake (yaw)", "degrees of swing", 8, 3,
			"shook the head 1–2.5 s, swings of up to 24° in yaw", 1, 3},
		{actions.Event{Action: actions.LookDown, Start: 1, End: 3, Magnitude: 30, Track: 1},
			"he lowered his head", "他低下头", "head down (pitch)", "degrees below the usual pitch", 15, 2,
			"looked down 1–3 s, 30° below the usual pitch", 1, 3.5},
		{actions.Event{Action: actions.LookAway, Start: 1, End: 3, Magnitude: -40, Track: 1},
			"he turned his head away", "他转过头去", "head turn (yaw)", "degrees from the usual yaw", 20, 2,
			"looked away to the image's left 1–3 s, 40° from the usual yaw", 1, 3.5},
	}
	for _, tt := range tests {
		t.Run(string(tt.ev.Action), func(t *testing.T) {
			ev := map[string]any{
				"rule": "action." + string(tt.ev.Action), "action": string(tt.ev.Action), "au": tt.au, "track": 1,
				"start_s": tt.ev.Start, "end_s": tt.ev.End, "magnitude": tt.ev.Magnitude, "unit": tt.unit,
				"threshold": tt.threshold, "times_threshold": tt.times, "measure": tt.measure,
			}
			for lang, text := range map[string]string{English: tt.en, Chinese: tt.zh} {
				clues, _, _ := actionClues(measured(tt.ev), lang)
				want := []Clue{{Aspect: AspectVisual, Text: text, Start: tt.start, End: tt.end, Evidence: ev}}
				if diff := cmp.Diff(want, clues); diff != "" {
					t.Errorf("%s clues (-want +got):\n%s", lang, diff)
				}
			}
			if _, scores, scale := actionClues(measured(tt.ev), English); cmp.Diff(map[string]float64(ruleFor(t, tt.ev.Action).w), scaled(scores, 1/scale)) != "" {
				t.Errorf("support %v at scale %v, want the rule's weights %v", scores, scale, ruleFor(t, tt.ev.Action).w)
			}
		})
	}
}

func ruleFor(t *testing.T, a actions.Action) *actionRule {
	t.Helper()
	for i := range actionRules {
		if actionRules[i].action == a {
			return &actionRules[i]
		}
	}
	t.Fatalf("no rule for %s", a)
	return nil
}

func scaled(m map[string]float64, k float64) map[string]float64 {
	out := map[string]float64{}
	for l, v := range m {
		out[l] = round3(v * k)
	}
	return out
}

func texts(clues []Clue) []string {
	out := []string{}
	for _, c := range clues {
		out = append(out, c.Text)
	}
	return out
}

func TestActionNoneMeasured(t *testing.T) {
	for name, in := range map[string]faceActions{
		"no events":            measured(),
		"events of other face": measured(actions.Event{Action: actions.Smile, Start: 1, End: 2, Magnitude: 0.2, Track: 2}),
		"zero value":           {},
	} {
		t.Run(name, func(t *testing.T) {
			clues, scores, scale := actionClues(in, English)
			if len(clues) != 0 || len(scores) != 0 || scale != 0 {
				t.Errorf("clues %v, support %v, scale %v from no event of the main face", clues, scores, scale)
			}
			ch := channel{aspect: AspectVisual, scores: map[string]float64{}}
			ch.addActions(in, English)
			if len(ch.clues) != 0 || len(ch.scores) != 0 {
				t.Errorf("channel %+v from no event of the main face", ch)
			}
		})
	}
}

func TestActionBlinkRate(t *testing.T) {
	blinks := func(ts ...float64) []actions.Event {
		var evs []actions.Event
		for _, s := range ts {
			evs = append(evs, actions.Event{Action: actions.Blink, Start: s, End: s, Magnitude: 0.7, Track: 1})
		}
		return evs
	}
	tests := []struct {
		name     string
		in       faceActions
		want     []string
		rate     float64
		from, to float64
	}{
		{"two blinks", measured(blinks(1, 2)...), nil, 0, 0, 0},
		// 4 blinks over 10 s: 24 a minute, a usual rate.
		{"usual rate", measured(blinks(1, 3.5, 6, 8.5)...), nil, 0, 0, 0},
		// 8 blinks over 10 s: 48 a minute.
		{"rapid", measured(blinks(0.5, 1.5, 2.5, 3.5, 5, 6, 7.5, 9)...), []string{"he blinked rapidly"}, 48, 0.5, 9.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clues, scores, _ := actionClues(tt.in, English)
			if diff := cmp.Diff(tt.want, texts(clues), cmpEmpty); diff != "" {
				t.Fatalf("clues (-want +got):\n%s", diff)
			}
			if len(clues) == 0 {
				return
			}
			ev := clues[0].Evidence
			if ev["rate"] != tt.rate || ev["threshold"] != 40.0 || ev["count"] != 8 || ev["span_s"] != 10.0 || ev["unit"] != "blinks a minute" || ev["au"] != "AU45" {
				t.Errorf("evidence %v", ev)
			}
			if n := len(ev["events"].([]map[string]any)); n != 8 {
				t.Errorf("%d blink events in the evidence, want 8", n)
			}
			if clues[0].Start != tt.from || clues[0].End != tt.to {
				t.Errorf("clue at %v-%v s, want %v-%v", clues[0].Start, clues[0].End, tt.from, tt.to)
			}
			if diff := cmp.Diff(map[string]float64{"worried": 0.5}, scores); diff != "" {
				t.Errorf("support (-want +got):\n%s", diff)
			}
		})
	}
	// The same blinks over a minute's face are a usual rate.
	in := measured(blinks(0.5, 1.5, 2.5, 3.5, 5, 6, 7.5, 9)...)
	in.to, in.duration = 59.5, 60
	if clues, _, _ := actionClues(in, English); len(clues) != 0 {
		t.Errorf("8 blinks in a minute: %v", texts(clues))
	}
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

// TestActionSpeech: the lips part and press and the jaw drops in every
// word; within voiced speech they are not clues.
func TestActionSpeech(t *testing.T) {
	// Voiced from 1 to 6 s with a pause from 3 to 4.5 s.
	talk := &voice.Report{F0: &voice.Stats{Mean: 140}, SpeechStart: 1, SpeechEnd: 6, Pauses: []voice.Pause{{Start: 3, End: 4.5}}}
	ev := func(a actions.Action, start, end float64) actions.Event {
		return actions.Event{Action: a, Start: start, End: end, Magnitude: 0.3, Track: 1}
	}
	tests := []struct {
		name  string
		voice *voice.Report
		evs   []actions.Event
		want  []string
	}{
		{"mouth open while speaking", talk, []actions.Event{ev(actions.MouthOpen, 1.5, 2)}, nil},
		{"lips pressed while speaking", talk, []actions.Event{ev(actions.LipPress, 5, 5.5)}, nil},
		{"jaw drop while speaking", talk, []actions.Event{ev(actions.JawDrop, 2, 2)}, nil},
		{"mouth open in a pause", talk, []actions.Event{ev(actions.MouthOpen, 3, 4)}, []string{"he opened his mouth"}},
		{"mouth open after speech", talk, []actions.Event{ev(actions.MouthOpen, 7, 8)}, []string{"he opened his mouth"}},
		// 5.5-7 s: 0.5 s of 1.5 within speech.
		{"mouth open mostly after speech", talk, []actions.Event{ev(actions.MouthOpen, 5.5, 6.5)}, []string{"he opened his mouth"}},
		{"no voice measured", nil, []actions.Event{ev(actions.MouthOpen, 1.5, 2)}, []string{"he opened his mouth"}},
		{"silence", &voice.Report{}, []actions.Event{ev(actions.LipPress, 1.5, 2)}, []string{"he pressed his lips together"}},
		{"smile while speaking", talk, []actions.Event{ev(actions.Smile, 1.5, 2)}, []string{"he smiled, the corners of his mouth turned up"}},
		{"brows while speaking", talk, []actions.Event{ev(actions.BrowRaise, 1.5, 2)}, []string{"he raised his eyebrows"}},
		// A jaw drop opens the lips too: its clue says both.
		{"jaw drop and mouth open", nil, []actions.Event{ev(actions.MouthOpen, 7, 8), ev(actions.JawDrop, 7.5, 8)}, []string{"he opened his mouth wide"}},
		{"mouth open, then jaw drop", nil, []actions.Event{ev(actions.MouthOpen, 2, 3), ev(actions.JawDrop, 7.5, 8)}, []string{"he opened his mouth", "he opened his mouth wide"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := measured(tt.evs...)
			in.voice = tt.voice
			clues, _, _ := actionClues(in, English)
			if diff := cmp.Diff(tt.want, texts(clues), cmpEmpty); diff != "" {
				t.Errorf("clues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActionStrongestTold(t *testing.T) {
	var evs []actions.Event
	for i := range 8 {
		// Brow raises of magnitude 0.11 .. 0.18: with the smile, nine
		// events; the three weakest, the first three, are left out.
		evs = append(evs, actions.Event{Action: actions.BrowRaise, Start: float64(i), End: float64(i) + 0.5, Magnitude: 0.11 + 0.01*float64(i), Track: 1})
	}
	evs = append(evs, actions.Event{Action: actions.Smile, Start: 0.5, End: 1, Magnitude: 0.3, Track: 1})
	clues, scores, scale := actionClues(measured(evs...), English)
	var starts []float64
	for _, c := range clues {
		starts = append(starts, c.Start)
	}
	if diff := cmp.Diff([]float64{0.5, 3, 4, 5, 6, 7}, starts); diff != "" {
		t.Errorf("clue starts (-want +got):\n%s", diff)
	}
	if clues[0].Text != "he smiled, the corners of his mouth turned up" {
		t.Errorf("first clue %q, want the smile", clues[0].Text)
	}
	// 5 brow raises (surprised 0.7, worried 0.3) and a smile, each at
	// scale 1.
	if diff := cmp.Diff(map[string]float64{"surprised": 3.5, "worried": 1.5, "happy": 1}, scaled(scores, 1)); diff != "" || scale != 6 {
		t.Errorf("support at scale %v (-want +got):\n%s", scale, diff)
	}
}

// TestActionFusion: action support takes half the face channel from a
// scale of 1 on, less below; alone it is the channel.
func TestActionFusion(t *testing.T) {
	exprClue := Clue{Aspect: AspectVisual, Text: "his face looked happy (expression model)", Start: 0, End: 5, Evidence: map[string]any{"rule": "face.happy"}}
	tests := []struct {
		name   string
		expr   bool
		evs    []actions.Event
		scores map[string]float64
		texts  []string
	}{
		{"smile", true, []actions.Event{{Action: actions.Smile, Start: 1, End: 2, Magnitude: 0.1, Track: 1}},
			// expressions happy 0.6, neutral 0.4, halved; the smile's happy 1, halved.
			map[string]float64{"happy": 0.8, "neutral": 0.2},
			[]string{"his face looked happy (expression model)", "he smiled, the corners of his mouth turned up"}},
		{"a head shake at scale 0.5", true, []actions.Event{{Action: actions.HeadShake, Start: 2, End: 3, Magnitude: 20, Track: 1}},
			// a quarter: angry 0.125, sad and worried 0.0625.
			map[string]float64{"happy": 0.45, "neutral": 0.3, "angry": 0.125, "sad": 0.063, "worried": 0.063},
			[]string{"his face looked happy (expression model)", "he shook his head"}},
		{"actions alone", false, []actions.Event{{Action: actions.LipCornerDepress, Start: 1, End: 2, Magnitude: 0.1, Track: 1}},
			map[string]float64{"sad": 0.7, "disgusted": 0.3},
			[]string{"the corners of his mouth turned down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := channel{aspect: AspectVisual, scores: map[string]float64{}}
			if tt.expr {
				ch.clues = []Clue{exprClue}
				ch.scores = map[string]float64{"happy": 0.6, "neutral": 0.4}
			}
			ch.addActions(measured(tt.evs...), English)
			if diff := cmp.Diff(tt.scores, scaled(ch.scores, 1)); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.texts, texts(ch.clues)); diff != "" {
				t.Errorf("clues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeakClue(t *testing.T) {
	smile := actions.Event{Action: actions.Smile, Start: 2, End: 3, Magnitude: 0.1, Track: 1}
	peak := &actions.Peak{T: 2.5, Reason: "smile 1.7× its threshold"}
	tests := []struct {
		name string
		in   faceActions
		expr []Clue
		want []string
	}{
		{"during a smile", faceActions{events: []actions.Event{smile}, peak: peak, track: 1, fps: 2, duration: 10},
			nil, []string{"he smiled, the corners of his mouth turned up", "his expression changed most at 2.5 s"}},
		{"outside every clue", faceActions{events: []actions.Event{smile}, peak: &actions.Peak{T: 6, Reason: "brow raise 0.4× its threshold"}, track: 1, fps: 2, duration: 10},
			nil, []string{"he smiled, the corners of his mouth turned up"}},
		{"scoring under one action at threshold", faceActions{events: []actions.Event{smile}, peak: &actions.Peak{T: 2.5, Reason: "smile 0.9× its threshold", Score: 0.9}, track: 1, fps: 2, duration: 10},
			nil, []string{"he smiled, the corners of his mouth turned up"}},
		{"scoring at threshold", faceActions{events: []actions.Event{smile}, peak: &actions.Peak{T: 2.5, Reason: "smile 1.7× its threshold", Score: 1.7}, track: 1, fps: 2, duration: 10},
			nil, []string{"he smiled, the corners of his mouth turned up", "his expression changed most at 2.5 s"}},
		{"during a surprised face", faceActions{peak: &actions.Peak{T: 1, Reason: "expression surprised 0.90 against 0.10 at baseline"}, track: 1, fps: 2, duration: 10, exprChanged: true},
			[]Clue{{Text: "his face looked surprised (expression model)", Start: 0, End: 2, Evidence: map[string]any{"rule": "face.surprised"}}},
			[]string{"his face looked surprised (expression model)", "his expression changed most at 1 s"}},
		// A still picture: the face looks surprised throughout, and the
		// networks' noise makes a peak.
		{"during an unchanged surprised face", faceActions{peak: &actions.Peak{T: 0, Reason: "brows lowered 0.0× its threshold"}, track: 1, fps: 2, duration: 10},
			[]Clue{{Text: "his face looked surprised (expression model)", Start: 0, End: 2, Evidence: map[string]any{"rule": "face.surprised"}}},
			[]string{"his face looked surprised (expression model)"}},
		{"during a neutral face only", faceActions{peak: &actions.Peak{T: 1, Reason: "expression neutral 0.60 against 0.90 at baseline"}, track: 1, fps: 2, duration: 10},
			[]Clue{{Text: "his facial expression was calm (expression model)", Start: 0, End: 2, Evidence: map[string]any{"rule": "face.neutral"}}},
			[]string{"his facial expression was calm (expression model)"}},
		{"no clue", faceActions{peak: peak, track: 1, fps: 2, duration: 10}, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := channel{aspect: AspectVisual, scores: map[string]float64{}, clues: tt.expr}
			if len(tt.expr) > 0 {
				ch.scores["surprised"] = 1
			}
			ch.addActions(tt.in, English)
			if diff := cmp.Diff(tt.want, texts(ch.clues)); diff != "" {
				t.Errorf("clues (-want +got):\n%s", diff)
			}
		})
	}

	in := faceActions{events: []actions.Event{smile}, peak: peak, track: 1, fps: 2, duration: 10}
	ch := channel{aspect: AspectVisual, scores: map[string]float64{}}
	ch.addActions(in, Chinese)
	want := Clue{Aspect: AspectVisual, Text: "他的表情在2.5秒时变化最大", Start: 2.5, End: 3, Evidence: map[string]any{
		"rule": "face.peak", "track": 1, "t": 2.5, "reason": "smile 1.7× its threshold", "during": []string{"action.smile"},
	}}
	if len(ch.clues) != 2 {
		t.Fatalf("clues %v, want the smile and the peak", texts(ch.clues))
	}
	if diff := cmp.Diff(want, ch.clues[1]); diff != "" {
		t.Errorf("peak clue (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{"happy": 1}, ch.scores); diff != "" {
		t.Errorf("the peak moved the scores (-want +got):\n%s", diff)
	}
}

// TestActionRules checks that every action package actions reports has a
// rule, and that the rules' weights are labels' and sum to 1.
func TestActionRules(t *testing.T) {
	all := []actions.Action{actions.BrowRaise, actions.BrowLower, actions.EyeWiden, actions.EyeClose, actions.Blink,
		actions.Smile, actions.LipCornerDepress, actions.MouthOpen, actions.JawDrop, actions.LipPress,
		actions.Nod, actions.HeadShake, actions.LookDown, actions.LookAway}
	var got []actions.Action
	for _, r := range actionRules {
		got = append(got, r.action)
		var sum float64
		for l, w := range r.w {
			if !contains(Labels, l) {
				t.Errorf("%s supports unknown label %s", r.action, l)
			}
			sum += w
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("%s weights sum to %v, want 1", r.action, sum)
		}
		if !(r.scale > 0 && r.scale <= 1) || r.au == "" || r.unit == "" || !(actionThreshold(&r) > 0) {
			t.Errorf("%s: scale %v, au %q, unit %q, threshold %v", r.action, r.scale, r.au, r.unit, actionThreshold(&r))
		}
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

// shareStem reports whether a and b share a word: the first four letters
// of an English word of four or more, two characters of Chinese.
func shareStem(a, b string) bool {
	for _, w := range strings.Fields(a) {
		if r := []rune(w); len(r) >= 4 && strings.Contains(b, string(r[:4])) {
			return true
		}
	}
	r := []rune(a)
	for i := 0; i+2 <= len(r); i++ {
		if r[i] > 0x2e80 && strings.Contains(b, string(r[i:i+2])) {
			return true
		}
	}
	return false
}

// TestActionVocabulary checks every clause of the action phrases against
// the EMER annotations (EMER-V1 English and Chinese, EMER-V2 both
// columns), "she" and "her" read as "he" and "his" as EMER unifies them,
// the subject left off: a clause not found word for word must have its
// annotators' form in attested, found there and sharing a word with it.
// The peak's time is the measure's own: no annotation gives one.
func TestActionVocabulary(t *testing.T) {
	var en, zh strings.Builder
	read := func(path string, cols map[string]*strings.Builder) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		idx := map[int]*strings.Builder{}
		for i, h := range rows[0] {
			if b, ok := cols[strings.TrimPrefix(h, "\ufeff")]; ok {
				idx[i] = b
			}
		}
		if len(idx) != len(cols) {
			t.Fatalf("%s: columns %q, want %d of %v", path, rows[0], len(cols), cols)
		}
		for _, row := range rows[1:] {
			for i, b := range idx {
				if i < len(row) {
					b.WriteString(row[i])
					b.WriteString("\n")
				}
			}
		}
	}
	read(sharedtest.Data(t, "emer-v1", "gt-eng.csv"), map[string]*strings.Builder{"reasons": &en})
	read(sharedtest.Data(t, "emer-v1", "gt-chi.csv"), map[string]*strings.Builder{"reasons": &zh})
	read(sharedtest.Data(t, "emer-v2", "final-EMER-reason.csv"), map[string]*strings.Builder{"english": &en, "chinese": &zh})
	english := strings.ToLower(en.String())
	for from, to := range map[string]string{`\bshe\b`: "he", `\bher\b`: "his", `\bherself\b`: "himself"} {
		english = regexp.MustCompile(from).ReplaceAllString(english, to)
	}
	chinese := strings.ReplaceAll(zh.String(), "她", "他")

	check := func(name string, p, attested phrase) {
		for _, l := range []struct {
			lang, text, attested, corpus, sep, subject string
		}{
			{English, p.en, attested.en, english, ", ", "he "},
			{Chinese, p.zh, attested.zh, chinese, "，", "他"},
		} {
			text := strings.ReplaceAll(l.text, "%s", "")
			for _, clause := range strings.Split(text, l.sep) {
				clause = strings.TrimPrefix(strings.TrimSpace(clause), l.subject)
				if strings.Contains(l.corpus, clause) {
					continue
				}
				switch {
				case l.attested == "":
					t.Errorf("%s (%s): %q is not in the annotations and has no attested form", name, l.lang, clause)
				case !strings.Contains(l.corpus, l.attested):
					t.Errorf("%s (%s): %q is not in the annotations, nor is its attested form %q", name, l.lang, clause, l.attested)
				case !shareStem(clause, l.attested):
					t.Errorf("%s (%s): %q shares no word with its attested form %q", name, l.lang, clause, l.attested)
				}
			}
		}
	}
	for _, r := range actionRules {
		check(string(r.action), r.phrase, r.attested)
	}
	check(peakRule, peakPhrase, peakAttested)
}

// TestExpressionClaimsNoMovement: the expression network's probabilities
// alone say how the face looked, not which part of it moved: "he smiled,
// the corners of his mouth turned up" needs a measured smile.
func TestExpressionClaimsNoMovement(t *testing.T) {
	movement := regexp.MustCompile(`smil|mouth|brow|eye|nose|lips|微笑|嘴|眉|眼|鼻`)
	for _, expr := range face.Expressions {
		for _, p := range []float64{0.9, 0.4} {
			for _, lang := range []string{English, Chinese} {
				t.Run(fmt.Sprintf("%s %.1f %s", expr, p, lang), func(t *testing.T) {
					e := reason(t, &Local{Language: lang}, &cues.Cues{Visual: visual(seg(expr, 0, 3, p)), Audio: noAudio, Text: noText})
					if len(e.Clues) != 1 {
						t.Fatalf("clues %v, want the expression's", texts(e.Clues))
					}
					text := e.Clues[0].Text
					if movement.MatchString(text) {
						t.Errorf("%q claims a movement the expression network did not measure", text)
					}
					if model := map[string]string{English: "(expression model)", Chinese: "（表情模型）"}[lang]; !strings.HasSuffix(text, model) {
						t.Errorf("%q does not say it is the expression model's reading", text)
					}
				})
			}
		}
	}
	e := reason(t, &Local{}, &cues.Cues{Visual: visual(seg("happy", 0, 3, 0.9)), Audio: noAudio, Text: noText})
	if want := "his face looked happy (expression model)"; e.Clues[0].Text != want {
		t.Errorf("happy face: %q, want %q", e.Clues[0].Text, want)
	}
}

// withActions adds landmark measures to the visual cues: head poses at
// every frame of the main face, the events and the peak.
func withActions(v cues.Visual, peak *actions.Peak, evs ...actions.Event) cues.Visual {
	v.Actions = append([]actions.Event{}, evs...)
	v.HeadPose = []actions.Pose{}
	for _, f := range v.Faces {
		if f.Track == v.MainTrack {
			v.HeadPose = append(v.HeadPose, actions.Pose{T: f.T})
		}
	}
	v.Peak = peak
	return v
}

func TestLocalActions(t *testing.T) {
	smile := actions.Event{Action: actions.Smile, Start: 0.5, End: 2, Magnitude: 0.12, Track: 1}
	otherFace := actions.Event{Action: actions.BrowLower, Start: 0, End: 3, Magnitude: 0.4, Track: 2}
	surprise := []actions.Event{
		{Action: actions.BrowRaise, Start: 1, End: 2, Magnitude: 0.2, Track: 1},
		{Action: actions.EyeWiden, Start: 1, End: 2, Magnitude: 0.3, Track: 1},
		{Action: actions.JawDrop, Start: 1.5, End: 2, Magnitude: 0.2, Track: 1},
		{Action: actions.MouthOpen, Start: 1.5, End: 2, Magnitude: 0.3, Track: 1},
	}
	tests := []struct {
		name      string
		visual    cues.Visual
		emotions  []Emotion
		reasoning map[string]string
	}{
		{"smile on a happy face", withActions(visual(seg("happy", 0, 3, 0.9)), &actions.Peak{T: 1.5, Reason: "smile 2.0× its threshold", Score: 2}, smile, otherFace),
			// expressions happy 0.9, neutral 0.1, and the smile's happy
			// 1, half each.
			[]Emotion{{"happy", 0.95}, {"neutral", 0.05}},
			map[string]string{
				English: "In the video, his face looked happy (expression model), then he smiled, the corners of his mouth turned up, then his expression changed most at 1.5 s. Therefore, it is inferred that his emotional state is happy.",
				Chinese: "在视频中，他的面部表情显得高兴（表情模型），随后他面带微笑，嘴角上扬，随后他的表情在1.5秒时变化最大。因此，推测他的情绪状态是高兴。",
			}},
		// No expression reaches a clue; brows, eyes and jaw make the
		// surprise prototype: surprised 1.45, worried 0.8, angry 0.25 of
		// 2.5 (the jaw drop's scale is 0.5; its mouth opening is the
		// same clue).
		{"surprise prototype alone", withActions(visual(seg("neutral", 0, 4, 0.25)), &actions.Peak{T: 1.5, Reason: "eyes widened 2.0× its threshold; eyebrows raised 2.0× its threshold"}, surprise...),
			[]Emotion{{"surprised", 0.58}, {"worried", 0.32}, {"angry", 0.1}},
			map[string]string{
				English: "In the video, he raised his eyebrows, then he widened his eyes, then he opened his mouth wide, then his expression changed most at 1.5 s. Therefore, it is inferred that his emotional state is surprised and worried.",
				Chinese: "在视频中，他眉毛抬起，随后他瞪大眼睛，随后他张大嘴巴，随后他的表情在1.5秒时变化最大。因此，推测他的情绪状态是惊讶、担忧。",
			}},
		{"landmarks measured, no action", withActions(visual(seg("happy", 0, 3, 0.9)), nil),
			[]Emotion{{"happy", 0.9}, {"neutral", 0.1}},
			map[string]string{
				English: "In the video, his face looked happy (expression model). Therefore, it is inferred that his emotional state is happy.",
				Chinese: "在视频中，他的面部表情显得高兴（表情模型）。因此，推测他的情绪状态是高兴。",
			}},
		{"no landmarks", visual(seg("happy", 0, 3, 0.9)),
			[]Emotion{{"happy", 0.9}, {"neutral", 0.1}},
			map[string]string{
				English: "In the video, his face looked happy (expression model). Therefore, it is inferred that his emotional state is happy.",
				Chinese: "在视频中，他的面部表情显得高兴（表情模型）。因此，推测他的情绪状态是高兴。",
			}},
	}
	for _, tt := range tests {
		for _, lang := range []string{English, Chinese} {
			t.Run(tt.name+" "+lang, func(t *testing.T) {
				e := reason(t, &Local{Language: lang}, &cues.Cues{Visual: tt.visual, Audio: noAudio, Text: noText})
				if e.Reasoning != tt.reasoning[lang] {
					t.Errorf("reasoning = %q\nwant        %q", e.Reasoning, tt.reasoning[lang])
				}
				if diff := cmp.Diff(tt.emotions, e.Emotions); diff != "" {
					t.Errorf("emotions (-want +got):\n%s", diff)
				}
				for _, cl := range e.Clues {
					if cl.Evidence["track"] != 1 {
						t.Errorf("clue %q of track %v, want the main face's", cl.Text, cl.Evidence["track"])
					}
					if cl.End <= cl.Start || cl.Start < 0 || cl.End > 5 {
						t.Errorf("clue %q at %v-%v s", cl.Text, cl.Start, cl.End)
					}
				}
				if diff := cmp.Diff([]string{"visual"}, e.Modalities); diff != "" {
					t.Errorf("modalities (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestLocalActionsWhileSpeaking: the mouth opening with the words is
// speech; the smile is a clue.
func TestLocalActionsWhileSpeaking(t *testing.T) {
	v := withActions(visual(seg("happy", 0, 5, 0.9)), nil,
		actions.Event{Action: actions.MouthOpen, Start: 1, End: 1.5, Magnitude: 0.3, Track: 1},
		actions.Event{Action: actions.Smile, Start: 2, End: 3, Magnitude: 0.1, Track: 1},
	)
	e := reason(t, &Local{}, &cues.Cues{Visual: v, Audio: speech(150, 27, 3), Text: noText})
	var visualTexts []string
	for _, cl := range e.Clues {
		if cl.Aspect == AspectVisual {
			visualTexts = append(visualTexts, cl.Text)
		}
	}
	if diff := cmp.Diff([]string{"his face looked happy (expression model)", "he smiled, the corners of his mouth turned up"}, visualTexts); diff != "" {
		t.Errorf("visual clues (-want +got):\n%s", diff)
	}
}

// TestActionsOnReferenceClip: the shared clip is a still photo of
// smiling faces: nothing moves, so no action and no peak is a clue, and
// happy stays among the top emotions.
func TestActionsOnReferenceClip(t *testing.T) {
	clip := sharedtest.Path(t, "reference", "media", "clip.mp4")
	needFFmpeg(t)
	needFaceModels(t)
	c, err := cues.Analyze(context.Background(), clip, cues.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Visual.HeadPose) == 0 {
		t.Fatalf("no head pose of the main face: landmarks were not measured")
	}
	for _, lang := range []string{English, Chinese} {
		e, err := (&Local{Language: lang}).Explain(context.Background(), Input{Clip: clip, Cues: c})
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range e.Clues {
			if rule, _ := cl.Evidence["rule"].(string); strings.HasPrefix(rule, "action.") || rule == peakRule {
				t.Errorf("%s: a still photo gave the clue %q: %v", lang, cl.Text, cl.Evidence)
			}
		}
		if len(e.Emotions) < 2 || e.Emotions[0].Label != "happy" && e.Emotions[1].Label != "happy" {
			t.Errorf("%s: happy is not among the top emotions: %v", lang, e.Emotions)
		}
	}
}

func TestMainFaceActions(t *testing.T) {
	peak := &actions.Peak{T: 1}
	evs := []actions.Event{{Action: actions.Nod, Start: 1, End: 2, Magnitude: 9, Track: 1}}
	talk := speech(150, 27, 3)
	tests := []struct {
		name string
		c    *cues.Cues
		want faceActions
	}{
		{"head poses", &cues.Cues{Duration: 5, Visual: withActions(visual(seg("happy", 0, 2, 0.9), seg("sad", 2, 4, 0.9)), peak, evs...), Audio: talk},
			faceActions{events: evs, peak: peak, track: 1, fps: 2, from: 0, to: 3.5, duration: 5, voice: talk.Report, exprChanged: true}},
		{"faces without landmarks", &cues.Cues{Duration: 5, Visual: visual(seg("happy", 0.5, 3, 0.9)), Audio: cues.Audio{Report: talk.Report}},
			faceActions{track: 1, fps: 2, from: 0.5, to: 2.5, duration: 5}},
		{"no face", &cues.Cues{Duration: 5, Visual: noVideo},
			faceActions{duration: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mainFaceActions(tt.c)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(faceActions{}), cmpEmptyEvents); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmptyEvents = cmp.Transformer("nilEmptyEvents", func(s []actions.Event) []actions.Event {
	if len(s) == 0 {
		return nil
	}
	return s
})
