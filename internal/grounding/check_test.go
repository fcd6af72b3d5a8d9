package grounding

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/actions"
	"emer/internal/cues"
	"emer/internal/face"
	"emer/internal/textcue"
	"emer/internal/voice"
)

// faceOf returns cues whose main face shows expr with probability p on
// frames frames at 2 a second, the rest of the probability on neutral.
func faceOf(expr string, p float64, frames int) *cues.Cues {
	c := &cues.Cues{Duration: float64(frames) / 2}
	v := &c.Visual
	v.Present, v.MainTrack, v.FPS = true, 1, 2
	for i := range frames {
		probs := map[string]float64{expr: p}
		if expr != "neutral" {
			probs["neutral"] = 1 - p
		}
		v.Faces = append(v.Faces, cues.Face{T: float64(i) / 2, Frame: i, Track: 1, Expressions: probs})
	}
	dominant := expr
	if p < 0.5 && expr != "neutral" {
		dominant = "neutral"
	}
	v.Summary = []face.Segment{{Expression: dominant, Start: 0, End: c.Duration, MeanProb: max(p, 1-p), Frames: frames}}
	return c
}

// voiceOf returns cues of a measured voice with the given events.
func voiceOf(f0Mean, f0SD, rate float64, evs ...voice.Event) *cues.Cues {
	c := &cues.Cues{Duration: 5}
	sh, j := 0.04, 0.01
	c.Audio = cues.Audio{Present: true, Report: &voice.Report{Duration: 5, VoicedRatio: 0.5,
		F0: &voice.Stats{Mean: f0Mean, SD: f0SD}, SpeechRate: rate, VoicedSegments: int(rate * 4), SpeechStart: 0.5, SpeechEnd: 4.5,
		ShimmerLocal: &sh, JitterLocal: &j, Pauses: []voice.Pause{}, Events: evs}}
	return c
}

func textOf(subtitle string) *cues.Cues {
	r := textcue.DefaultLexicon().Analyze(textcue.Segment{Text: subtitle})
	return &cues.Cues{Duration: 5, Text: cues.Text{Present: true, Subtitle: subtitle, Result: &r}}
}

func TestCheckClaim(t *testing.T) {
	happy := &Measures{Cues: faceOf("happy", 0.95, 10)}
	neutral := &Measures{Cues: faceOf("neutral", 0.95, 10)}
	weakSmile := &Measures{Cues: faceOf("happy", 0.4, 10)}
	smileAction := faceOf("neutral", 0.95, 10)
	smileAction.Visual.Actions = []actions.Event{{Action: actions.Smile, Start: 1, End: 2, Magnitude: 0.2, Track: 1}}
	still := faceOf("neutral", 0.95, 10)
	for i := range 10 {
		still.Visual.HeadPose = append(still.Visual.HeadPose, actions.Pose{T: float64(i) / 2})
	}
	stillFast := *still
	stillFast.Visual.FPS = 10
	quieter := &Measures{Cues: voiceOf(110, 10, 3, voice.Event{Kind: voice.EventQuieter, Start: 3, End: 4, Change: -7, Unit: "dB"}), Scene: &Scene{LevelDB: 75, Sounding: 300, SoundSec: 4.8}}
	louder := &Measures{Cues: voiceOf(110, 10, 3, voice.Event{Kind: voice.EventLouder, Start: 3, End: 4, Change: 8, Unit: "dB"}), Scene: &Scene{LevelDB: 75, Sounding: 300, SoundSec: 4.8}}
	even := &Measures{Cues: voiceOf(110, 10, 3), Scene: &Scene{LevelDB: 75, Sounding: 300, SoundSec: 4.8}}
	faint := &Measures{Cues: voiceOf(110, 10, 3), Scene: &Scene{LevelDB: 45, Sounding: 300, SoundSec: 4.8}}
	fast := &Measures{Cues: voiceOf(110, 40, 4.5)}
	slow := &Measures{Cues: voiceOf(110, 5, 1.5)}
	music := &Measures{Cues: voiceOf(300, 5, 0.2), Scene: &Scene{ToneShare: 0.97, Sounding: 300, SoundSec: 4.8}}
	under := &Measures{Cues: voiceOf(110, 10, 3), Scene: &Scene{ToneShare: 0.3, ForeignShare: 0.6, Sounding: 300, SoundSec: 4.8}}
	speech := &Measures{Cues: voiceOf(110, 10, 3), Scene: &Scene{Sounding: 300, SoundSec: 4.8}}
	unsure := &Measures{Cues: voiceOf(110, 10, 3), Scene: &Scene{ToneShare: 0.1, ForeignShare: 0.15, Sounding: 300, SoundSec: 4.8}}
	said := &Measures{Cues: textOf("Last night, I forgot to thank you properly. Why are you quitting?")}
	glad := &Measures{Cues: textOf("I am so happy and glad, this is wonderful!")}
	grim := &Measures{Cues: textOf("This is terrible, I hate it and I am miserable.")}
	zh := &Measures{Cues: textOf("我真的很开心见到你")}
	none := &Measures{Reason: "no --media given"}

	tests := []struct {
		name, claim string
		m           *Measures
		aspect      string
		verdict     string
	}{
		{"smile on a happy face", "he smiled", happy, Visual, Supported},
		{"smile on a neutral face", "He smiled broadly", neutral, Visual, Contradicted},
		{"negated smile on a neutral face", "he did not smile", neutral, Visual, Supported},
		{"negated smile on a happy face", "without smiling", happy, Visual, Contradicted},
		{"chinese smile", "他面带微笑", happy, Visual, Supported},
		{"chinese negated smile", "她没有微笑", happy, Visual, Contradicted},
		{"chinese laugh held back is still a laugh", "他忍不住笑了", happy, Visual, Supported},
		{"weak smile: shown, never dominant", "he smiled", weakSmile, Visual, Unverifiable},
		{"smile action", "the corners of his mouth turned up", &Measures{Cues: smileAction}, Visual, Supported},
		{"mouth corners lift", "the corners of his mouth lift", happy, Visual, Supported},
		{"no expression is the phrase, not a negation", "he showed no obvious expression", neutral, Visual, Supported},
		{"expressionless on a neutral face", "his face was expressionless", neutral, Visual, Supported},
		{"serious face is not happy", "她面部表情严肃", happy, Visual, Contradicted},
		{"nod at 2 fps", "he nodded", &Measures{Cues: still}, Visual, Unverifiable},
		{"nod at 10 fps", "he nodded", &Measures{Cues: &stillFast}, Visual, Contradicted},
		{"looked down", "he lowered his head", &Measures{Cues: still}, Visual, Contradicted},
		{"hands", "双手紧握", happy, Visual, Unverifiable},
		{"no face measured", "he smiled", even, Visual, Unverifiable},

		{"loud against a quieter stretch", "he spoke loudly", quieter, Audio, Contradicted},
		{"loud against a louder stretch", "He raised his voice", louder, Audio, Supported},
		{"roared", "he roared", louder, Audio, Supported},
		{"loud at an even level", "he shouted", even, Audio, Unverifiable},
		{"negated inside the phrase", "the volume was not high", louder, Audio, Contradicted},
		{"loud volume", "the volume was high", louder, Audio, Supported},
		{"chinese not a negation", "不一会儿他大声喊道", louder, Audio, Supported},
		{"loud on a faint recording", "大声说话", faint, Audio, Contradicted},
		{"soft on a faint recording", "he spoke softly", faint, Audio, Supported},
		{"whisper against a louder stretch", "he whispered", louder, Audio, Contradicted},
		{"fast", "he spoke quickly", fast, Audio, Supported},
		{"speech speed increased", "his speech speed increased", fast, Audio, Supported},
		{"hesitantly on no pause", "he spoke hesitantly", fast, Audio, Contradicted},
		{"fast on slow speech", "语速很快", slow, Audio, Contradicted},
		{"slow", "he spoke slowly", slow, Audio, Supported},
		{"lively", "his intonation rose and fell", fast, Audio, Supported},
		{"flat on lively speech", "his tone was flat", fast, Audio, Contradicted},
		{"high pitch on a low voice", "his voice was high-pitched", even, Audio, Contradicted},
		{"trembling on a steady voice", "his voice trembled", even, Audio, Contradicted},
		{"music alone", "background music plays", music, Audio, Supported},
		{"music under speech", "背景音乐很轻松", under, Audio, Supported},
		{"music on speech alone", "there is background music", speech, Audio, Contradicted},
		{"no music on speech alone", "there is no background music", speech, Audio, Supported},
		{"music unsure", "music plays softly", unsure, Audio, Unverifiable},
		{"voice quality without a test", "his voice is filled with joy", even, Audio, Unverifiable},

		{"quote in the subtitle", `he used the phrase "thank you"`, said, Content, Supported},
		{"quote not in the subtitle", `he said "I hate this place"`, said, Content, Contradicted},
		{"quote in another script", `他说“谢谢你”`, said, Content, Unverifiable},
		{"chinese quote", `他说“很开心见到你”`, zh, Content, Supported},
		{"question", "he asked why his friend is quitting", said, Content, Supported},
		{"positive words", "his words were positive", glad, Content, Supported},
		{"positive words on grim ones", "his words were positive", grim, Content, Contradicted},
		{"complaint", "he complained", grim, Content, Supported},

		{"context", "he was sitting in an office", happy, Context, Unverifiable},
		{"inference", "Therefore, it is inferred that his emotional state is happy", happy, Inference, Unverifiable},
		{"chinese inference", "我们可以推断出这位女士似乎很生气", happy, Inference, Unverifiable},
		{"without media", "he smiled", none, Visual, Unverifiable},
		{"nothing at all", "he spoke loudly", nil, Audio, Unverifiable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckClaim(tt.claim, tt.m)
			ev, _ := json.Marshal(got.Evidence)
			if got.Aspect != tt.aspect || got.Verdict != tt.verdict {
				t.Errorf("CheckClaim(%q) = %s %s, want %s %s; evidence %s", tt.claim, got.Aspect, got.Verdict, tt.aspect, tt.verdict, ev)
			}
			if got.Evidence == nil {
				t.Errorf("nil evidence")
			}
			if got.Verdict == Unverifiable && got.Evidence["reason"] == nil && got.Evidence["rules"] == nil {
				t.Errorf("unverifiable without a reason: %s", ev)
			}
		})
	}
}

// TestCheckEvidence checks that a verdict names its rule, its test and
// the values measured.
func TestCheckEvidence(t *testing.T) {
	m := &Measures{Cues: voiceOf(110, 10, 3, voice.Event{Kind: voice.EventQuieter, Start: 3, End: 4, Change: -7, Unit: "dB"}), Scene: &Scene{LevelDB: 75, Sounding: 300, SoundSec: 4.8}}
	got := CheckClaim("spoke loudly", m)
	want := map[string]any{
		"rule":     "voice.loud",
		"test":     Rules[ruleIndex(t, "voice.loud")].Test,
		"louder":   []map[string]any{},
		"quieter":  []map[string]any{{"start_s": 3.0, "end_s": 4.0, "change": -7.0, "unit": "dB"}},
		"level_db": 75.0,
	}
	if diff := cmp.Diff(want, got.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func ruleIndex(t *testing.T, id string) int {
	t.Helper()
	for i, r := range Rules {
		if r.ID == id {
			return i
		}
	}
	t.Fatalf("no rule %s", id)
	return -1
}

func TestCheckWithoutMedia(t *testing.T) {
	claims := Check(`In the video, he smiled and his voice was loud. He said "hello". He sat in a car. Therefore, he is happy.`, nil)
	var got [][2]string
	for _, c := range claims {
		if c.Verdict != Unverifiable {
			t.Errorf("%q is %s without media", c.Text, c.Verdict)
		}
		got = append(got, [2]string{c.Aspect, c.Text})
	}
	want := [][2]string{{Visual, "he smiled"}, {Audio, "his voice was loud"}, {Content, `He said "hello"`}, {Context, "He sat in a car"}, {Inference, "he is happy"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
}

func TestCount(t *testing.T) {
	rate := func(v float64) *float64 { return &v }
	tests := []struct {
		name     string
		verdicts []string
		want     Totals
	}{
		{"none", nil, Totals{}},
		{"all unverifiable", []string{Unverifiable, Unverifiable}, Totals{Claims: 2, Unverifiable: 2}},
		{"mixed", []string{Supported, Supported, Contradicted, Unverifiable}, Totals{Claims: 4, Supported: 2, Contradicted: 1, Unverifiable: 1, GroundedRate: rate(2.0 / 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var claims []Claim
			for _, v := range tt.verdicts {
				claims = append(claims, Claim{Verdict: v})
			}
			if diff := cmp.Diff(tt.want, Count(claims)); diff != "" {
				t.Errorf("Count (-want +got):\n%s", diff)
			}
		})
	}
	var sum Totals
	sum.Add(Count([]Claim{{Verdict: Supported}}))
	sum.Add(Count([]Claim{{Verdict: Contradicted}, {Verdict: Contradicted}, {Verdict: Contradicted}}))
	if sum.Claims != 4 || sum.GroundedRate == nil || *sum.GroundedRate != 0.25 {
		t.Errorf("summed totals %+v, want 4 claims at rate 0.25", sum)
	}
}

// TestRulesCompile checks every rule has a test and its phrases compile
// and match what they are written for.
func TestRulesCompile(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("rule %s twice", r.ID)
		}
		seen[r.ID] = true
		if r.Test == "" || r.Aspect == "" {
			t.Errorf("rule %s has no test or aspect", r.ID)
		}
		if r.test == nil && r.ID != "content.quote" {
			t.Errorf("rule %s has no test function", r.ID)
		}
		if r.ID != "content.quote" && len(r.EN) == 0 || len(r.ZH) == 0 && r.ID != "content.quote" {
			t.Errorf("rule %s lacks English or Chinese phrases", r.ID)
		}
	}
	_ = compiled()
}
