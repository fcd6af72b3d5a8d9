package explain

import (
	"fmt"
	"math"

	"emer/internal/voice"
)

// This file is the local reasoner's whole judgement: the labels it ranks,
// how much each channel counts, and every clue rule with its threshold,
// its wording (from the EMER annotators' vocabulary, English and Chinese)
// and the emotions it supports, but for the facial actions' rules, which
// are in actions.go. local.go only measures against them.
//
// Voice thresholds against population norms were checked on the 360
// RAVDESS recordings of ../shared/data/ravdess-calib (12 actors, two fixed
// neutral sentences, so only the voice carries the emotion); the share of
// recordings of each acted emotion on which a rule fires is given with the
// rule.

// RulesVersion names these rules; it is the Model of a local explanation.
const RulesVersion = "emer-rules/2"

// Labels are the emotions the local reasoner ranks, in the order that
// breaks ties. They are words of the emotion-wheel vocabulary (the
// AffectGPT format.csv), except neutral, which the wheels leave out.
var Labels = []string{"happy", "sad", "angry", "worried", "surprised", "disgusted", "calm", "neutral"}

// labelWords name a label in the reasoning: the English adjective, the
// English noun ("expresses happiness") and the Chinese word.
var labelWords = map[string]struct{ en, noun, zh string }{
	"happy":     {"happy", "happiness", "高兴"},
	"sad":       {"sad", "sadness", "悲伤"},
	"angry":     {"angry", "anger", "生气"},
	"worried":   {"worried", "worry", "担忧"},
	"surprised": {"surprised", "surprise", "惊讶"},
	"disgusted": {"disgusted", "disgust", "厌恶"},
	"calm":      {"calm", "calmness", "平静"},
	"neutral":   {"neutral", "neutrality", "中性"},
}

// labelAlias maps the labels other vocabularies use onto Labels: face-api's
// expressions (fearful is the MER convention's worried), the textcue
// lexicon's wheel roots (mad, scared) and the usual names a voice
// classifier may give (RAVDESS's, FER's, MELD's).
var labelAlias = map[string]string{
	"happy": "happy", "happiness": "happy", "joy": "happy",
	"sad": "sad", "sadness": "sad",
	"angry": "angry", "anger": "angry", "mad": "angry",
	"worried": "worried", "worry": "worried", "fearful": "worried", "fear": "worried", "scared": "worried", "anxious": "worried",
	"surprised": "surprised", "surprise": "surprised",
	"disgusted": "disgusted", "disgust": "disgusted",
	"calm":    "calm",
	"neutral": "neutral",
}

// Channel weights in the fusion. The expression network is a trained
// classifier reading the face directly, and subtitle emotion words name
// an emotion outright; the voice is read through prosody or a fitted
// model of acted speech, so it counts least. Only channels that gave at
// least one clue take part, and the weights of those are renormalised to
// sum to 1. Words that carry no clear emotion take part with
// plainChannelWeight instead of the content channel's weight.
var channelWeight = map[string]float64{
	AspectVisual:  0.40,
	AspectAudio:   0.25,
	AspectContent: 0.35,
}

// plainChannelWeight is the content channel's weight when its only clue
// is that the words carry no clear emotion (content.plain). Such words
// are the absence of an emotion word, not evidence of neutrality: 36 of
// the 100 English subtitles of EMER-v1 read as plain, and their annotated
// emotions are happy 14, angry 11, sad 5, worried 4, surprised 2 (the
// label set has no neutral); RAVDESS speaks the same two plain sentences
// in all eight emotions. At the full 0.35 those words outweighed the whole
// voice channel (0.35 against 0.25), and with -subtitles the reasoner
// answered neutral on all 360 RAVDESS recordings (6.7 % right). At 0.05
// they only break near ties: beside the voice alone neutral gets
// 0.05/0.30 = 0.17 of the fusion, beside face and voice 0.05/0.70 = 0.07;
// alone, they still say neutral. With -subtitles the reasoner is then
// right on 52.5 % (189/360): the words say neutral on the 48 recordings
// with no voice clue, and turn 18 of the 90 on which the model's top
// probability is below 0.4 from its answer to neutral.
const plainChannelWeight = 0.05

// Fusion and statement of the result.
const (
	// minScore: labels whose fused score is below it are left out of
	// Emotions.
	minScore = 0.05
	// statedShare: the reasoning states the top label and every other
	// label scoring at least this share of the top one, at most maxStated.
	statedShare = 0.5
	maxStated   = 3
	// voiceModelMin: a voice classifier's prediction is a clue ("his
	// voice sounded angry") when its top label has at least this
	// probability. It gates the sentence only, not the scores (see
	// "Voice model" below).
	voiceModelMin = 0.4
)

// phrase is one clue's wording. English phrases are whole clauses, so
// that they can open a sentence; the subject is "he", as EMER's
// annotations unify it.
type phrase struct{ en, zh string }

// weights are the emotions a rule supports, summing to 1.
type weights map[string]float64

// Face rules. The main face's dominant expression over a stretch of time
// (face.Segment: the expression network's most likely class, one odd frame
// absorbed) is a clue when the stretch lasts at least faceMinDur and the
// expression's mean probability over it is at least faceSlight; from
// faceStrong on it takes the plain phrase, below it the slight one. The
// face channel's scores are the expression network's probabilities
// averaged over the main track's frames, each expression read as its
// label (fearful as worried). The network reads the whole face, not the
// brows or the mouth on their own, so its phrases say how the face looked
// and that the expression model says so ("his face looked happy
// (expression model)", in the annotators' "面部表情显得…"); what moved is
// said by the action rules of actions.go, from measured landmarks.
const (
	faceStrong   = 0.5
	faceSlight   = 0.3
	faceMinDur   = 0.5 // seconds: one frame at the default 2 frames a second
	maxFaceClues = 4   // the longest stretches, told in time order
)

var facePhrases = map[string]struct{ strong, slight phrase }{
	"happy": {
		phrase{"his face looked happy (expression model)", "他的面部表情显得高兴（表情模型）"},
		phrase{"his face looked slightly happy (expression model)", "他的面部表情显得有些高兴（表情模型）"}},
	"sad": {
		phrase{"his face looked sad (expression model)", "他的面部表情显得悲伤（表情模型）"},
		phrase{"his face looked slightly sad (expression model)", "他的面部表情显得有些悲伤（表情模型）"}},
	"angry": {
		phrase{"his face looked angry (expression model)", "他的面部表情显得生气（表情模型）"},
		phrase{"his face looked slightly angry (expression model)", "他的面部表情显得有些生气（表情模型）"}},
	"fearful": {
		phrase{"his face looked fearful (expression model)", "他的面部表情显得害怕（表情模型）"},
		phrase{"his face looked slightly fearful (expression model)", "他的面部表情显得有些害怕（表情模型）"}},
	"disgusted": {
		phrase{"his face looked disgusted (expression model)", "他的面部表情显得厌恶（表情模型）"},
		phrase{"his face looked slightly disgusted (expression model)", "他的面部表情显得有些厌恶（表情模型）"}},
	"surprised": {
		phrase{"his face looked surprised (expression model)", "他的面部表情显得惊讶（表情模型）"},
		phrase{"his face looked slightly surprised (expression model)", "他的面部表情显得有些惊讶（表情模型）"}},
	"neutral": {
		phrase{"his facial expression was calm (expression model)", "他面部表情平静（表情模型）"},
		phrase{"his facial expression was fairly calm (expression model)", "他表情较为平静（表情模型）"}},
}

// voiceHit is where and on what a voice rule fired.
type voiceHit struct {
	start, end float64
	evidence   map[string]any
}

// voiceRule is one prosody clue: a test on the voice report, its wording
// and the emotions it supports.
type voiceRule struct {
	id     string
	test   string // the threshold in words, as the evidence quotes it
	phrase phrase
	w      weights
	fire   func(r *voice.Report) *voiceHit
}

// Population norms for the voice (clip-level measures, any speaker).
const (
	// highPitchHz: mean F0 at or above it is high for any adult voice
	// (typical speaking F0 is about 85-180 Hz for men, 165-255 Hz for
	// women). RAVDESS: neutral 0 %, calm 0 %, fearful 58 %, angry 47 %,
	// surprised 43 %, happy 31 %, sad 22 %, disgusted 18 %.
	highPitchHz = 250
	// livelyCV: F0 standard deviation over the mean at or above it is a
	// strongly moving intonation. RAVDESS: surprised 56 %, disgusted 27 %,
	// angry 25 %, sad 18 %, neutral 12 %, happy 10 %, calm 6 %, fearful 6 %.
	livelyCV = 0.25
	// flatCV: at or below it, with no change of level against the
	// speaker's own, the intonation is flat. RAVDESS: fearful 37 %, calm
	// 29 %, sad 29 %, disgusted 12 %, angry 6 %, happy 4 %, neutral 4 %,
	// surprised 0 %.
	flatCV = 0.12
	// fastRate and slowRate: voiced segments a second between the first
	// and the last voiced frame (slow only over at least 1 s of speech).
	// RAVDESS median 3.0; fast: surprised 39 %, sad 25 %, neutral 20 %,
	// angry 18 %, fearful 18 %; slow: calm 22 %, happy 22 %, fearful 14 %,
	// sad 12 %.
	fastRate = 4.0
	slowRate = 2.0
	// trembleShimmer: local shimmer at or above it (with jitter measured)
	// is an unsteady, trembling voice. RAVDESS: angry 12 %, surprised
	// 12 %, sad 10 %, fearful 10 %, disgusted 6 %, neutral, calm and happy
	// 0 %.
	trembleShimmer = 0.15
)

// voiceRules are the prosody clues, in the order the reasoning tells them.
// Events are changes against the speaker's own level within the clip,
// found by package voice with its default thresholds (1 s windows; F0
// 15 % off the speaker's mean, loudness 6 dB off the speaker's level,
// pauses of 0.8 s); the other rules compare clip-level measures with the
// population norms above. In the single 3 s sentences of RAVDESS the
// events are rare (loudness and pauses under 5 % of the recordings of any
// emotion; a pitch rise at the end: surprised 18 %, sad 14 %, disgusted
// 10 %); they matter in longer clips.
var voiceRules = []voiceRule{
	{id: "voice.louder", test: "loudness at least 6 dB above the speaker's own level over a 1 s window",
		phrase: phrase{"he raised his voice", "他提高了音量"},
		w:      weights{"angry": 0.4, "surprised": 0.3, "happy": 0.3},
		fire:   eventRule(voice.EventLouder, 0)},
	{id: "voice.quieter", test: "loudness at least 6 dB below the speaker's own level over a 1 s window",
		phrase: phrase{"his voice became low", "他的声音变得低沉"},
		w:      weights{"sad": 0.6, "worried": 0.4},
		fire:   eventRule(voice.EventQuieter, 0)},
	{id: "voice.pitch_high", test: "pitch at least 15 % above the speaker's mean over a 1 s window",
		phrase: phrase{"his tone rose", "他的语调升高"},
		w:      weights{"surprised": 0.4, "happy": 0.3, "angry": 0.3},
		fire:   eventRule(voice.EventPitchHigh, 0)},
	// At package voice's 15 % a lower window fires on a quarter of the
	// neutral RAVDESS sentences (their final fall) and no more often on
	// sad ones: only a drop of 25 % counts.
	{id: "voice.pitch_low", test: "pitch at least 25 % below the speaker's mean over a 1 s window",
		phrase: phrase{"his tone sank", "他的语调低沉"},
		w:      weights{"sad": 0.7, "calm": 0.3},
		fire:   eventRule(voice.EventPitchLow, 0.25)},
	{id: "voice.rising_end", test: "pitch rising at least 15 % over the end of a phrase",
		phrase: phrase{"his tone rose at the end of the sentence", "他句末语调上扬"},
		w:      weights{"surprised": 0.5, "worried": 0.5},
		fire:   eventRule(voice.EventPitchRise, 0)},
	{id: "voice.long_pause", test: "a pause of at least 0.8 s inside speech",
		phrase: phrase{"he paused for a long time", "他说话中间停顿较长"},
		w:      weights{"sad": 0.5, "worried": 0.5},
		fire:   eventRule(voice.EventLongPause, 0)},
	{id: "voice.high_pitch", test: fmt.Sprintf("mean pitch at least %d Hz", highPitchHz),
		phrase: phrase{"his voice was high-pitched", "他的音调很高"},
		w:      weights{"worried": 0.3, "angry": 0.25, "surprised": 0.25, "happy": 0.2},
		fire: func(r *voice.Report) *voiceHit {
			if r.F0 == nil || r.F0.Mean < highPitchHz {
				return nil
			}
			return speechHit(r, map[string]any{"f0_mean_hz": round3(r.F0.Mean), "threshold_hz": highPitchHz})
		}},
	{id: "voice.lively", test: fmt.Sprintf("pitch standard deviation at least %.2f of the mean", livelyCV),
		phrase: phrase{"his intonation rose and fell markedly", "他的语调起伏明显"},
		w:      weights{"surprised": 0.5, "angry": 0.25, "disgusted": 0.25},
		fire: func(r *voice.Report) *voiceHit {
			if cv, ok := f0CV(r); ok && cv >= livelyCV {
				return speechHit(r, map[string]any{"f0_mean_hz": round3(r.F0.Mean), "f0_sd_hz": round3(r.F0.SD), "f0_cv": round3(cv), "threshold": livelyCV})
			}
			return nil
		}},
	{id: "voice.flat", test: fmt.Sprintf("pitch standard deviation at most %.2f of the mean, and no change of pitch or loudness level", flatCV),
		phrase: phrase{"his tone was flat and calm", "他语气平静，语调平淡"},
		w:      weights{"calm": 0.4, "sad": 0.3, "worried": 0.3},
		fire: func(r *voice.Report) *voiceHit {
			cv, ok := f0CV(r)
			if !ok || cv > flatCV {
				return nil
			}
			for _, e := range r.Events {
				switch e.Kind {
				case voice.EventLouder, voice.EventQuieter, voice.EventPitchHigh, voice.EventPitchLow:
					return nil
				}
			}
			return speechHit(r, map[string]any{"f0_mean_hz": round3(r.F0.Mean), "f0_sd_hz": round3(r.F0.SD), "f0_cv": round3(cv), "threshold": flatCV})
		}},
	{id: "voice.fast", test: fmt.Sprintf("at least %.1f voiced segments a second", fastRate),
		phrase: phrase{"he spoke quickly", "他语速较快"},
		w:      weights{"surprised": 0.4, "angry": 0.3, "worried": 0.3},
		fire: func(r *voice.Report) *voiceHit {
			if r.F0 == nil || r.SpeechRate < fastRate {
				return nil
			}
			return speechHit(r, map[string]any{"speech_rate": round3(r.SpeechRate), "voiced_segments": r.VoicedSegments, "threshold": fastRate})
		}},
	{id: "voice.slow", test: fmt.Sprintf("at most %.1f voiced segments a second over at least 1 s of speech", slowRate),
		phrase: phrase{"he spoke slowly", "他语速缓慢"},
		w:      weights{"calm": 0.6, "sad": 0.4},
		fire: func(r *voice.Report) *voiceHit {
			if r.F0 == nil || r.SpeechEnd-r.SpeechStart < 1 || r.SpeechRate > slowRate {
				return nil
			}
			return speechHit(r, map[string]any{"speech_rate": round3(r.SpeechRate), "voiced_segments": r.VoicedSegments, "threshold": slowRate})
		}},
	{id: "voice.trembling", test: fmt.Sprintf("local shimmer at least %.0f %%", trembleShimmer*100),
		phrase: phrase{"his voice trembled", "他的声音颤抖"},
		w:      weights{"sad": 0.35, "worried": 0.35, "angry": 0.3},
		fire: func(r *voice.Report) *voiceHit {
			if r.ShimmerLocal == nil || r.JitterLocal == nil || *r.ShimmerLocal < trembleShimmer {
				return nil
			}
			return speechHit(r, map[string]any{"shimmer_local": round3(*r.ShimmerLocal), "jitter_local": round3(*r.JitterLocal), "threshold": trembleShimmer})
		}},
}

// Voice model. When a voice classifier gives a prediction, the voice
// channel's scores are its probabilities (read as Labels), at any
// probability, and the prosody rules only give their clues; the rules
// score the channel when there is no prediction. A fitted model beats the
// hand rules on the voice. Leave-one-actor-out on the 360 RAVDESS
// recordings of ../shared/data/ravdess-calib (internal/infer/calib), the
// model alone names the portrayed emotion of 56.1 % of them; with
// emer-rules/1, which gave the model half of the channel and only when its
// top probability reached 0.4, the reasoner's top emotion was right on
// 43.6 %: the six prosody rules that support surprise pulled answers to
// surprised (86 answers, precision 0.40), and on the 138 recordings below
// 0.4 the rules alone got 21 right where the model got 58. With the
// model's scores (emer-rules/2) the reasoner is right on 51.4 % (185/360;
// 52.5 % with neutral and calm as one). The channel still takes part in
// the fusion only with a clue, a prosody one or the model's, so that no
// emotion is claimed without a clue that says why; that is the rest of
// the gap: the 48 recordings on which no prosody rule fires and the
// model's top probability is below 0.4 get no emotion, and the model
// alone names 17 of them rightly. On the other 312 the reasoner answers
// as the model does.

// voiceModelPhrase words a voice classifier's top label.
var voiceModelPhrase = phrase{"his voice sounded %s", "他的声音听起来%s"}

// Content rules. The subtitle's emotion words are those of the textcue
// lexicon (the emotion wheel's word forms, mapped to its roots; mad and
// scared read as angry and worried). Valence is VADER's compound score
// for English, the emotion words' mean polarity for Chinese.
const (
	// wordWeight: each emotion word supports its label with this weight.
	wordWeight = 1.0
	// negatedHappyToSad: a negated happy word ("not happy") supports sad
	// with this weight; other negated words support nothing.
	negatedHappyToSad = 0.5
	// clearValence: valence at or beyond ±clearValence makes the words
	// positive or negative.
	clearValence = 0.5
	// plainValence: with no emotion word, no exclamation and valence
	// within ±plainValence, the words carry no clear emotion.
	plainValence = 0.2
	// exclaimWeight: the weight of a subtitle with exclamations.
	exclaimWeight = 0.5
	// quoteWords and quoteRunes bound a quoted subtitle line.
	quoteWords = 12
	quoteRunes = 30
)

// contentRule is a clue read from the subtitle as a whole; scale is its
// weight in the content channel.
type contentRule struct {
	id     string
	phrase phrase
	w      weights
	scale  float64
}

// contentWordsRule names the clue of a subtitle line's emotion words.
const contentWordsRule = "content.words"

var (
	contentPositive = contentRule{"content.positive", phrase{"his words were positive", "他的话语积极正面"},
		weights{"happy": 1}, 1}
	contentNegative = contentRule{"content.negative", phrase{"his words were negative", "他的话语消极负面"},
		weights{"sad": 0.4, "angry": 0.3, "worried": 0.3}, 1}
	contentExclaim = contentRule{"content.exclamations", phrase{"he spoke in exclamations", "他使用了感叹句，语气强烈"},
		weights{"surprised": 0.4, "angry": 0.3, "happy": 0.3}, exclaimWeight}
	contentPlain = contentRule{"content.plain", phrase{"his words carried no clear emotion", "他的话语没有明显的情感色彩"},
		weights{"neutral": 1}, 1}
)

// Sentence frames of the reasoning.
var (
	frameOpen     = phrase{"In the video, ", "在视频中，"}
	frameInferred = phrase{"Therefore, it is inferred that his emotional state is %s.", "因此，推测他的情绪状态是%s。"}
	frameNothing  = phrase{"In the video, no facial expression, voice or subtitle could be measured, so his emotional state cannot be inferred.",
		"在视频中，没有可以测量的面部表情、声音或字幕，因此无法推测他的情绪状态。"}
	// frameSaid quotes a subtitle line; frameWords names its emotion words.
	frameSaid      = phrase{`he said "%s"`, "他说“%s”"}
	frameExpresses = phrase{`"%s" expresses %s`, "“%s”表达了%s"}
	frameExpress   = phrase{`%s express %s`, "%s表达了%s"}
	frameNegated   = phrase{`"%s" is negated`, "“%s”被否定"}
	frameInWhich   = phrase{", in which ", "，其中"}
	frameThen      = phrase{", then ", "，随后"}
)

// voiceModelRule names a voice classifier's clue in its evidence.
const voiceModelRule = "voice.model"

// eventRule fires on the voice events of one kind, spanning them all.
func eventRule(kind string, minChange float64) func(r *voice.Report) *voiceHit {
	return func(r *voice.Report) *voiceHit {
		var evs []map[string]any
		h := &voiceHit{start: math.Inf(1), end: math.Inf(-1)}
		for _, e := range r.Events {
			if e.Kind != kind || math.Abs(e.Change) < minChange {
				continue
			}
			evs = append(evs, map[string]any{"start_s": round3(e.Start), "end_s": round3(e.End), "change": round3(e.Change), "unit": e.Unit, "text": e.Text})
			h.start, h.end = math.Min(h.start, e.Start), math.Max(h.end, e.End)
		}
		if len(evs) == 0 {
			return nil
		}
		h.evidence = map[string]any{"events": evs}
		return h
	}
}

// speechHit is a clip-level hit spanning the speech.
func speechHit(r *voice.Report, ev map[string]any) *voiceHit {
	return &voiceHit{start: r.SpeechStart, end: r.SpeechEnd, evidence: ev}
}

// f0CV is the F0 standard deviation over its mean.
func f0CV(r *voice.Report) (float64, bool) {
	if r.F0 == nil || r.F0.Mean <= 0 {
		return 0, false
	}
	return r.F0.SD / r.F0.Mean, true
}

// round3 rounds a measured value to 3 decimals for the evidence.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
