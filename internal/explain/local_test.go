package explain

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/cues"
	"emer/internal/face"
	"emer/internal/media"
	"emer/internal/textcue"
	"emer/internal/voice"
)

var (
	noVideo = cues.Visual{Reason: "the clip has no video stream"}
	noAudio = cues.Audio{Reason: "the clip has no audio stream"}
	noText  = cues.Text{Reason: "no subtitles: none given, no sidecar .srt/.vtt file and no text track in the clip"}
)

// visual builds the face part of cues: the main face (track 1) shows each
// segment's expression with its mean probability in every frame, at 2
// frames a second; a second, smaller face (track 2) looks angry
// throughout and must not count.
func visual(segs ...face.Segment) cues.Visual {
	v := cues.Visual{Present: true, FPS: 2, MainTrack: 1, Summary: segs}
	for _, s := range segs {
		other := "neutral"
		if s.Expression == "neutral" {
			other = "sad"
		}
		for t := s.Start; t < s.End-1e-9; t += 0.5 {
			v.Faces = append(v.Faces,
				cues.Face{T: t, Track: 1, Expressions: map[string]float64{s.Expression: s.MeanProb, other: 1 - s.MeanProb}},
				cues.Face{T: t, Track: 2, Expressions: map[string]float64{"angry": 0.99, "neutral": 0.01}})
			v.FramesAnalyzed++
		}
	}
	return v
}

func seg(expr string, start, end, p float64) face.Segment {
	return face.Segment{Expression: expr, Start: start, End: end, MeanProb: p, Frames: int((end - start) / 0.5)}
}

// subtitles builds the text part of cues from timed lines, analysed by
// the embedded lexicon as cues.Analyze does.
func subtitles(lines ...media.Cue) cues.Text {
	t := cues.Text{Present: true, Source: media.SourceFile, Cues: lines}
	segs := make([]textcue.Segment, len(lines))
	var all []string
	for i, l := range lines {
		segs[i] = textcue.Segment{Text: l.Text}
		all = append(all, l.Text)
	}
	t.Subtitle = strings.Join(all, " ")
	r := textcue.DefaultLexicon().Analyze(segs...)
	t.Result = &r
	return t
}

func f64(v float64) *float64 { return &v }

// speech is a voiced report: speech from 0.5 to 4.5 s, F0 mean and sd as
// given, the speech rate and the events.
func speech(f0, sd, rate float64, events ...voice.Event) cues.Audio {
	return cues.Audio{Present: true, Report: &voice.Report{
		Duration: 5, VoicedRatio: 0.6, F0: &voice.Stats{Mean: f0, SD: sd, Min: f0 - 2*sd, Max: f0 + 2*sd},
		Intensity: voice.Stats{Mean: 62}, JitterLocal: f64(0.012), ShimmerLocal: f64(0.08),
		SpeechRate: rate, VoicedSegments: int(rate * 4), SpeechStart: 0.5, SpeechEnd: 4.5,
		Pauses: []voice.Pause{}, Events: append([]voice.Event{}, events...),
	}}
}

var louder = voice.Event{Kind: voice.EventLouder, Start: 2, End: 3, Change: 8.2, Unit: "dB", Text: "voice 8 dB louder than the speaker's level"}

func reason(t *testing.T, l *Local, c *cues.Cues) *Explanation {
	t.Helper()
	if c.Duration == 0 {
		c.Duration = 5
	}
	if c.Clip == "" {
		c.Clip = "clip.mp4"
	}
	e, err := l.Reason(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLocalFaceOnly(t *testing.T) {
	c := &cues.Cues{Visual: visual(seg("happy", 0, 3, 0.9)), Audio: noAudio, Text: noText}
	got := reason(t, &Local{}, c)
	want := &Explanation{
		Clip:     "clip.mp4",
		Emotions: []Emotion{{"happy", 0.9}, {"neutral", 0.1}},
		OVLabels: []string{"happy"},
		Clues: []Clue{{Aspect: "visual", Text: "his face looked happy (expression model)", Start: 0, End: 3, Evidence: map[string]any{
			"rule": "face.happy", "strength": "strong", "threshold": 0.5, "track": 1, "expression": "happy",
			"mean_prob": 0.9, "frames": 6, "track_mean_probs": map[string]float64{"happy": 0.9, "neutral": 0.1},
		}}},
		Reasoning:  "In the video, his face looked happy (expression model). Therefore, it is inferred that his emotional state is happy.",
		Modalities: []string{"visual"},
		Backend:    "local",
		Model:      RulesVersion,
		Warnings: []string{
			"audio: no voice clue: the clip has no audio stream",
			"text: the text channel is absent: no subtitles: none given, no sidecar .srt/.vtt file and no text track in the clip",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
}

func TestLocalFaceTimeline(t *testing.T) {
	c := &cues.Cues{Visual: visual(
		seg("neutral", 0, 2, 0.8),
		seg("happy", 2, 5, 0.6),
		seg("surprised", 5, 5.4, 0.9), // too short to be a clue
		seg("sad", 5.5, 7, 0.35),      // weak: the slight phrase
		seg("angry", 7, 8, 0.2),       // too weak to be a clue
	), Audio: noAudio, Text: noText}
	e := reason(t, &Local{}, c)
	type brief struct {
		Text       string
		Start, End float64
		Strength   any
	}
	var got []brief
	for _, cl := range e.Clues {
		got = append(got, brief{cl.Text, cl.Start, cl.End, cl.Evidence["strength"]})
	}
	want := []brief{
		{"his facial expression was calm (expression model)", 0, 2, "strong"},
		{"his face looked happy (expression model)", 2, 5, "strong"},
		{"his face looked slightly sad (expression model)", 5.5, 7, "slight"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clues (-want +got):\n%s", diff)
	}
	if want := "In the video, his facial expression was calm (expression model), then his face looked happy (expression model), then his face looked slightly sad (expression model). "; !strings.HasPrefix(e.Reasoning, want) {
		t.Errorf("reasoning = %q, want it to start with %q", e.Reasoning, want)
	}
}

func TestLocalVoiceOnly(t *testing.T) {
	c := &cues.Cues{Visual: noVideo, Audio: speech(280, 84, 4.5, louder), Text: noText}
	e := reason(t, &Local{}, c)
	var rules []string
	for _, cl := range e.Clues {
		if cl.Aspect != AspectAudio {
			t.Errorf("clue of aspect %s from the voice alone: %+v", cl.Aspect, cl)
		}
		rules = append(rules, cl.Evidence["rule"].(string))
	}
	if diff := cmp.Diff([]string{"voice.louder", "voice.high_pitch", "voice.lively", "voice.fast"}, rules); diff != "" {
		t.Errorf("rules fired (-want +got):\n%s", diff)
	}
	loud := e.Clues[0]
	if loud.Text != "he raised his voice" || loud.Start != 2 || loud.End != 3 {
		t.Errorf("loudness clue = %+v", loud)
	}
	wantEvents := []map[string]any{{"start_s": 2.0, "end_s": 3.0, "change": 8.2, "unit": "dB", "text": "voice 8 dB louder than the speaker's level"}}
	if diff := cmp.Diff(wantEvents, loud.Evidence["events"]); diff != "" {
		t.Errorf("loudness evidence (-want +got):\n%s", diff)
	}
	if pitch := e.Clues[1]; pitch.Evidence["f0_mean_hz"] != 280.0 || pitch.Start != 0.5 || pitch.End != 4.5 {
		t.Errorf("pitch clue = %+v", pitch)
	}
	// louder, high pitch, lively and fast add up to surprised 1.45,
	// angry 1.2, worried 0.6, happy 0.5 and disgusted 0.25 of 4.
	wantEmo := []Emotion{{"surprised", 0.363}, {"angry", 0.3}, {"worried", 0.15}, {"happy", 0.125}, {"disgusted", 0.063}}
	if diff := cmp.Diff(wantEmo, e.Emotions); diff != "" {
		t.Errorf("emotions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"audio"}, e.Modalities); diff != "" {
		t.Errorf("modalities (-want +got):\n%s", diff)
	}
	want := "In the video, he raised his voice, his voice was high-pitched, his intonation rose and fell markedly, and he spoke quickly. Therefore, it is inferred that his emotional state is surprised and angry."
	if e.Reasoning != want {
		t.Errorf("reasoning = %q\nwant        %q", e.Reasoning, want)
	}
	if diff := cmp.Diff([]string{"visual: no facial clue: the clip has no video stream", "text: the text channel is absent: " + noText.Reason}, e.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestLocalTextOnly(t *testing.T) {
	tests := []struct {
		name    string
		line    media.Cue
		texts   []string
		top     string
		rules   []string
		subject string // what the reasoning says of the words
	}{
		{"emotion word", media.Cue{Start: 1, End: 3.5, Text: "I'm so worried about him, I can't sleep."},
			[]string{`he said "I'm so worried about him, I can't sleep.", in which "worried" expresses worry`}, "worried", []string{"content.words"}, "worry"},
		{"negated happy", media.Cue{Start: 0.2, End: 2, Text: "I am not happy at all."},
			[]string{`he said "I am not happy at all.", in which "happy" is negated`}, "sad", []string{"content.words"}, "negated"},
		{"exclamation", media.Cue{Start: 0, End: 2, Text: "Don't talk to me about feelings anymore!"},
			[]string{"he spoke in exclamations"}, "surprised", []string{"content.exclamations"}, "exclamations"},
		{"plain", media.Cue{Start: 0, End: 2, Text: "The train leaves at nine."},
			[]string{"his words carried no clear emotion"}, "neutral", []string{"content.plain"}, "no clear emotion"},
		{"strong words", media.Cue{Start: 1, End: 4, Text: "I hate this, it is disgusting and terrible!"},
			[]string{`he said "I hate this, it is disgusting and terrible!", in which "hate", "disgusting" and "terrible" express disgust`, "his words were negative", "he spoke in exclamations"},
			"disgusted", []string{"content.words", "content.negative", "content.exclamations"}, "disgust"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := reason(t, &Local{}, &cues.Cues{Visual: noVideo, Audio: noAudio, Text: subtitles(tt.line)})
			var texts, rules []string
			for _, cl := range e.Clues {
				texts = append(texts, cl.Text)
				rules = append(rules, cl.Evidence["rule"].(string))
				if cl.Aspect != AspectContent || cl.Start != tt.line.Start || cl.End != tt.line.End {
					t.Errorf("clue %q: aspect %s, %v-%v s, want content at the line's %v-%v s", cl.Text, cl.Aspect, cl.Start, cl.End, tt.line.Start, tt.line.End)
				}
			}
			if diff := cmp.Diff(tt.texts, texts); diff != "" {
				t.Errorf("clue texts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			if len(e.Emotions) == 0 || e.Emotions[0].Label != tt.top {
				t.Errorf("emotions = %v, want %s first", e.Emotions, tt.top)
			}
			if diff := cmp.Diff([]string{"content"}, e.Modalities); diff != "" {
				t.Errorf("modalities (-want +got):\n%s", diff)
			}
			if !strings.Contains(e.Reasoning, tt.subject) {
				t.Errorf("reasoning %q does not mention %q", e.Reasoning, tt.subject)
			}
		})
	}
}

func TestLocalTextEvidence(t *testing.T) {
	e := reason(t, &Local{}, &cues.Cues{Visual: noVideo, Audio: noAudio, Text: subtitles(
		media.Cue{Start: 0.5, End: 3, Text: "Hello there. I am so happy to see you today."},
		media.Cue{Start: 3.2, End: 6, Text: "This is wonderful news."},
	)})
	want := []Clue{
		{Aspect: "content", Text: `he said "Hello there. I am so happy to see you today.", in which "happy" expresses happiness`, Start: 0.5, End: 3,
			Evidence: map[string]any{"rule": "content.words", "segment": 0, "subtitle": "Hello there. I am so happy to see you today.",
				"words": []map[string]any{{"word": "happy", "lemma": "happy", "category": "happy", "negated": false}}}},
		{Aspect: "content", Text: `he said "This is wonderful news.", in which "wonderful" expresses happiness`, Start: 3.2, End: 6,
			Evidence: map[string]any{"rule": "content.words", "segment": 1, "subtitle": "This is wonderful news.",
				"words": []map[string]any{{"word": "wonderful", "lemma": "wonder", "category": "happy", "negated": false}}}},
		{Aspect: "content", Text: "his words were positive", Start: 0.5, End: 6,
			Evidence: map[string]any{"rule": "content.positive", "threshold": 0.5, "valence": 0.827, "valence_method": "vader"}},
	}
	if diff := cmp.Diff(want, e.Clues); diff != "" {
		t.Errorf("clues (-want +got):\n%s", diff)
	}
}

func TestLocalAllThree(t *testing.T) {
	c := &cues.Cues{
		Visual: visual(seg("angry", 0, 4, 0.8)),
		Audio:  speech(180, 25, 4.2, louder),
		Text:   subtitles(media.Cue{Start: 0.5, End: 3, Text: "Don't talk to me about feelings anymore!"}),
	}
	tests := []struct {
		lang, reasoning string
	}{
		{English, "In the video, his face looked angry (expression model). He raised his voice, and he spoke quickly. He spoke in exclamations. Therefore, it is inferred that his emotional state is angry."},
		{Chinese, "在视频中，他的面部表情显得生气（表情模型）。他提高了音量，他语速较快。他使用了感叹句，语气强烈。因此，推测他的情绪状态是生气。"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			e := reason(t, &Local{Language: tt.lang}, c)
			if e.Reasoning != tt.reasoning {
				t.Errorf("reasoning = %q\nwant        %q", e.Reasoning, tt.reasoning)
			}
			// visual 0.4 × (angry 0.8, neutral 0.2), audio 0.25 × (angry
			// 0.35, surprised 0.35, happy 0.15, worried 0.15), content 0.35
			// × (surprised 0.4, angry 0.3, happy 0.3); surprised 0.2275 is 0.227 in
			// binary floating point.
			want := []Emotion{{"angry", 0.513}, {"surprised", 0.227}, {"happy", 0.143}, {"neutral", 0.08}}
			if diff := cmp.Diff(want, e.Emotions); diff != "" {
				t.Errorf("emotions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"visual", "audio", "content"}, e.Modalities); diff != "" {
				t.Errorf("modalities (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"angry"}, e.OVLabels); diff != "" {
				t.Errorf("ov_labels (-want +got):\n%s", diff)
			}
			if len(e.Warnings) != 0 {
				t.Errorf("warnings with every channel measured: %q", e.Warnings)
			}
			for _, cl := range e.Clues {
				if len(cl.Evidence) == 0 || cl.End <= cl.Start {
					t.Errorf("clue without evidence or time range: %+v", cl)
				}
			}
		})
	}
}

func TestLocalNothingMeasured(t *testing.T) {
	tests := []struct {
		name string
		c    *cues.Cues
		warn []string
	}{
		{"no channel", &cues.Cues{Visual: noVideo, Audio: noAudio, Text: noText}, []string{
			"visual: no facial clue: the clip has no video stream",
			"audio: no voice clue: the clip has no audio stream",
			"text: the text channel is absent: " + noText.Reason,
		}},
		{"no face, silence, empty subtitles", &cues.Cues{
			Visual: cues.Visual{FramesAnalyzed: 15, Reason: "no face found in 15 frames"},
			Audio:  cues.Audio{Present: true, Report: &voice.Report{Duration: 5, Pauses: []voice.Pause{}, Events: []voice.Event{}}},
			Text:   cues.Text{Reason: "the subtitles hold no text"},
		}, []string{
			"visual: no facial clue: no face found in 15 frames",
			"audio: no voice clue: no voiced speech was measured",
			"text: the text channel is absent: the subtitles hold no text",
		}},
		{"zero-value cues", &cues.Cues{}, []string{
			"visual: no facial clue: no face was measured",
			"audio: no voice clue: no audio was measured",
			"text: the text channel is absent: no subtitle was given or found",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := reason(t, &Local{}, tt.c)
			if len(e.Clues) != 0 || len(e.Emotions) != 0 || len(e.Modalities) != 0 || len(e.OVLabels) != 0 {
				t.Errorf("claims from nothing measured: %+v", e)
			}
			if e.Reasoning != frameNothing.en {
				t.Errorf("reasoning = %q", e.Reasoning)
			}
			if diff := cmp.Diff(tt.warn, e.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocalVoiceClassifier(t *testing.T) {
	// A voice no prosody rule reads: moderate pitch movement, normal rate.
	plain := func() *cues.Cues { return &cues.Cues{Visual: noVideo, Audio: speech(150, 27, 3), Text: noText} }

	e := reason(t, &Local{}, plain())
	if len(e.Clues) != 0 || len(e.Modalities) != 0 {
		t.Fatalf("a plain voice gave clues: %+v", e.Clues)
	}
	if !contains(e.Warnings, "audio: the voice was measured but matched no clue rule") {
		t.Errorf("warnings = %q", e.Warnings)
	}

	var seen VoiceInput
	clf := VoiceFunc(func(_ context.Context, v VoiceInput) (VoicePrediction, error) {
		seen = v
		return VoicePrediction{Model: "vocal-test/1", Probs: map[string]float64{"angry": 0.7, "neutral": 0.2, "bored": 0.1},
			Contributions: map[string]float64{"f0_mean": 0.31, "intensity": 0.12}}, nil
	})
	c := plain()
	e = reason(t, &Local{Voice: clf}, c)
	if seen.Report != c.Audio.Report || seen.Clip != "clip.mp4" {
		t.Errorf("the classifier got %+v, not the clip and its voice report", seen)
	}
	want := []Clue{{Aspect: "audio", Text: "his voice sounded angry", Start: 0.5, End: 4.5, Evidence: map[string]any{
		"rule": "voice.model", "model": "vocal-test/1", "threshold": 0.4,
		"probs":         map[string]float64{"angry": 0.7, "neutral": 0.2, "bored": 0.1},
		"contributions": map[string]float64{"f0_mean": 0.31, "intensity": 0.12},
	}}}
	if diff := cmp.Diff(want, e.Clues); diff != "" {
		t.Errorf("clues (-want +got):\n%s", diff)
	}
	// The classifier's known labels, renormalised: angry 0.7/0.9, neutral 0.2/0.9.
	if diff := cmp.Diff([]Emotion{{"angry", 0.778}, {"neutral", 0.222}}, e.Emotions); diff != "" {
		t.Errorf("emotions (-want +got):\n%s", diff)
	}
	if e.Model != RulesVersion+"+vocal-test/1" || !contains(e.Warnings, "audio: voice classifier labels not among the reasoner's, left out: bored") {
		t.Errorf("model %q, warnings %q", e.Model, e.Warnings)
	}

	// With prosody clues, the classifier's probabilities are the voice
	// channel's scores at any probability; the prosody rules keep their
	// clues, and the classifier's clue is said from voiceModelMin on.
	tests := []struct {
		name      string
		probs     map[string]float64
		rules     []string
		emotions  []Emotion
		withModel bool
	}{
		{"likely", map[string]float64{"sad": 1}, []string{"voice.louder", "voice.model"}, []Emotion{{"sad", 1}}, true},
		{"unsure", map[string]float64{"sad": 0.35, "happy": 0.33, "angry": 0.32}, []string{"voice.louder"},
			[]Emotion{{"sad", 0.35}, {"happy", 0.33}, {"angry", 0.32}}, true},
		{"only unknown labels", map[string]float64{"bored": 1}, []string{"voice.louder"},
			// louder: angry 0.4, surprised 0.3, happy 0.3.
			[]Emotion{{"angry", 0.4}, {"happy", 0.3}, {"surprised", 0.3}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := reason(t, &Local{Voice: VoiceFunc(func(context.Context, VoiceInput) (VoicePrediction, error) {
				return VoicePrediction{Model: "m", Probs: tt.probs}, nil
			})}, &cues.Cues{Visual: noVideo, Audio: speech(150, 27, 3, louder), Text: noText})
			var rules []string
			for _, cl := range e.Clues {
				rules = append(rules, cl.Evidence["rule"].(string))
			}
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("clue rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.emotions, e.Emotions); diff != "" {
				t.Errorf("emotions (-want +got):\n%s", diff)
			}
			if want := map[bool]string{true: RulesVersion + "+m", false: RulesVersion}[tt.withModel]; e.Model != want {
				t.Errorf("model %q, want %q", e.Model, want)
			}
		})
	}

	// A failing classifier leaves the rules alone.
	e = reason(t, &Local{Voice: VoiceFunc(func(context.Context, VoiceInput) (VoicePrediction, error) {
		return VoicePrediction{}, errors.New("no model file")
	})}, &cues.Cues{Visual: noVideo, Audio: speech(150, 27, 3, louder), Text: noText})
	if len(e.Clues) != 1 || e.Clues[0].Evidence["rule"] != "voice.louder" || e.Model != RulesVersion ||
		e.Emotions[0].Label != "angry" || !contains(e.Warnings, "audio: voice classifier: no model file") {
		t.Errorf("failing classifier: clues %+v, emotions %v, model %q, warnings %q", e.Clues, e.Emotions, e.Model, e.Warnings)
	}

	// An unsure classifier on a voice no prosody rule reads gives no clue,
	// so the voice claims nothing.
	e = reason(t, &Local{Voice: VoiceFunc(func(context.Context, VoiceInput) (VoicePrediction, error) {
		return VoicePrediction{Model: "m", Probs: map[string]float64{"sad": 0.35, "happy": 0.33, "angry": 0.32}}, nil
	})}, plain())
	if len(e.Clues) != 0 || len(e.Emotions) != 0 || len(e.Modalities) != 0 || e.Model != RulesVersion {
		t.Errorf("unsure classifier, no prosody clue: clues %+v, emotions %v, modalities %v, model %q", e.Clues, e.Emotions, e.Modalities, e.Model)
	}
}

// TestLocalPlainWordsBesideVoice checks that words carrying no clear
// emotion support neutral only weakly: beside a measured voice or face
// its emotion comes first, and neutral only breaks near ties.
func TestLocalPlainWordsBesideVoice(t *testing.T) {
	plainLine := subtitles(media.Cue{Start: 0, End: 2, Text: "Kids are talking by the door"})
	model := func(probs map[string]float64) VoiceClassifier {
		return VoiceFunc(func(context.Context, VoiceInput) (VoicePrediction, error) {
			return VoicePrediction{Model: "m", Probs: probs}, nil
		})
	}
	tests := []struct {
		name  string
		l     *Local
		c     *cues.Cues
		want  []Emotion
		rules []string
	}{
		// voice 0.25/0.30 × (angry 0.6, sad 0.4), words 0.05/0.30 × neutral.
		{"voice model", &Local{Voice: model(map[string]float64{"angry": 0.6, "sad": 0.4})},
			&cues.Cues{Visual: noVideo, Audio: speech(150, 27, 3), Text: plainLine},
			[]Emotion{{"angry", 0.5}, {"sad", 0.333}, {"neutral", 0.167}}, []string{"voice.model", "content.plain"}},
		// louder: angry 0.4, surprised 0.3, happy 0.3, times 0.25/0.30.
		{"prosody rules", &Local{},
			&cues.Cues{Visual: noVideo, Audio: speech(150, 27, 3, louder), Text: plainLine},
			[]Emotion{{"angry", 0.333}, {"happy", 0.25}, {"surprised", 0.25}, {"neutral", 0.167}}, []string{"voice.louder", "content.plain"}},
		// face 0.40/0.45 × (sad 0.7, neutral 0.3), words 0.05/0.45.
		{"face", &Local{},
			&cues.Cues{Visual: visual(seg("sad", 0, 2, 0.7)), Audio: noAudio, Text: plainLine},
			[]Emotion{{"sad", 0.622}, {"neutral", 0.378}}, []string{"face.sad", "content.plain"}},
		{"words alone", &Local{},
			&cues.Cues{Visual: noVideo, Audio: noAudio, Text: plainLine},
			[]Emotion{{"neutral", 1}}, []string{"content.plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := reason(t, tt.l, tt.c)
			var rules []string
			for _, cl := range e.Clues {
				rules = append(rules, cl.Evidence["rule"].(string))
			}
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("clue rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, e.Emotions); diff != "" {
				t.Errorf("emotions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocalExplain(t *testing.T) {
	l := &Local{}
	if _, err := l.Explain(context.Background(), Input{Clip: "a.mp4"}); err == nil {
		t.Error("explained without cues")
	}
	e, err := l.Explain(context.Background(), Input{Clip: "given.mp4", Cues: &cues.Cues{Clip: "measured.mp4"}})
	if err != nil || e.Clip != "given.mp4" {
		t.Errorf("explanation %+v, %v", e, err)
	}
	if _, err := (&Local{Language: "fr"}).Reason(context.Background(), &cues.Cues{}); err == nil {
		t.Error("unknown language accepted")
	}
	var _ Explainer = l
}

func TestExplanationJSON(t *testing.T) {
	b, err := json.Marshal(Explanation{Clip: "a.mp4", Backend: BackendLocal, Clues: []Clue{{Aspect: "visual"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"clip":"a.mp4","emotions":[],"ov_labels":[],"clues":[{"aspect":"visual","text":"","start_s":0,"end_s":0,"evidence":{}}],"reasoning":"","modalities":[],"backend":"local","model":"","warnings":[]}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(&Explanation{})
	if strings.Contains(string(b), "null") {
		t.Errorf("null in %s", b)
	}
}

func TestExplanationText(t *testing.T) {
	e := reason(t, &Local{}, &cues.Cues{Visual: visual(seg("happy", 0, 3, 0.9)), Audio: noAudio, Text: noText})
	want := `clip.mp4 (local, emer-rules/2)
emotions:   happy 0.90, neutral 0.10
labels:     happy
modalities: visual
clues:
  visual  0.0-3.0 s    his face looked happy (expression model)
reasoning:
  In the video, his face looked happy (expression model). Therefore, it is inferred that his emotional state is happy.
warning: audio: no voice clue: the clip has no audio stream
warning: text: the text channel is absent: no subtitles: none given, no sidecar .srt/.vtt file and no text track in the clip
`
	if diff := cmp.Diff(want, e.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLabelVocabulary checks that the labels are emotion-wheel words
// (neutral aside, which the wheels leave out) and that every label the
// measuring packages use maps onto one.
func TestLabelVocabulary(t *testing.T) {
	lex := textcue.DefaultLexicon()
	for _, l := range Labels {
		if _, ok := labelWords[l]; !ok {
			t.Errorf("label %s has no words", l)
		}
		if _, ok := lex.Lookup(l); !ok && l != "neutral" {
			t.Errorf("label %s is not an emotion-wheel word", l)
		}
	}
	for _, names := range [][]string{face.Expressions[:], textcue.Categories} {
		for _, n := range names {
			if !contains(Labels, labelAlias[n]) {
				t.Errorf("%s maps onto no label", n)
			}
		}
	}
	for expr := range facePhrases {
		if !contains(face.Expressions[:], expr) {
			t.Errorf("face phrase for unknown expression %s", expr)
		}
	}
	for _, r := range voiceRules {
		var sum float64
		for l, w := range r.w {
			if !contains(Labels, l) {
				t.Errorf("%s supports unknown label %s", r.id, l)
			}
			sum += w
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("%s weights sum to %v, want 1", r.id, sum)
		}
	}
}
