package explain

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"emer/internal/actions"
	"emer/internal/cues"
	"emer/internal/voice"
)

// Action rules. Package actions measures the main face's facial actions
// and head movements against the person's own neutral face in the clip and
// reports them as events (actions.Event: action, first and last frame,
// peak magnitude, track). Each event of the main track is a clue, worded
// as EMER's annotators word the movement (../shared/data/emer-v1/gt-eng.csv
// and gt-chi.csv, emer-v2/final-EMER-reason.csv; TestActionVocabulary
// checks every clause against them), with the evidence it rests on: the
// action, its time, its magnitude in the unit of its threshold, the track
// and the entry threshold of package actions' default rules. Blinks are
// the exception: people blink 15 to 30 times a minute whatever they feel,
// so only a rate well above that is a clue.
//
// The weights say which emotions an action supports. They follow the
// prototypes of EMFACS (Friesen and Ekman, "EMFACS-7: Emotional Facial
// Action Coding System", 1983; the prototype table of Ekman, Friesen and
// Hager, "Facial Action Coding System: Investigator's Guide", 2002):
// happiness 6+12; sadness 1+4+15 (and 1+4+11+15, 6+15); surprise
// 1+2+5B+26 (or 27); fear 1+2+4+5+7+20+26; anger 4+5+7+23 (and 4+5+7+24,
// 4+5+7+17+24, 4+5+7+10+22+23+25 or 26); disgust 9+15+16 (and 10+16+25).
// An action shared by several prototypes splits its support between them.
// Head movements are not in FACS's emotion prototypes; their weights
// follow the studies cited with each rule, and their scale is halved.
//
// Scale is the weight of one clue of the rule in the face channel: 1 for
// the actions that single out an emotion's prototype, 0.5 for those that
// occur in many (and in speech) and for head movements. The action clues'
// support takes actionShare of the face channel when their scales add up
// to 1 or more, proportionally less below, the expression network's
// probabilities the rest; without an expression clue the actions are the
// whole channel.

// actionRule is one facial action or head movement clue.
type actionRule struct {
	action actions.Action
	au     string // the FACS action units it measures, or the head movement
	unit   string // the unit of the magnitude and the threshold
	phrase phrase
	// attested is the annotators' own form of a clause of phrase that the
	// annotations do not hold word for word (they write in the present
	// tense, "closing his eyes", where the reasoning says "he closed his
	// eyes"; they say "tightly closed lips" for lips pressed together);
	// empty when every clause is found as it is.
	attested phrase
	w        weights
	scale    float64
	// speech marks actions the mouth makes in speaking (FACS scores AU24,
	// AU25 and AU26 in speech as speech, not expression): an event lying
	// at least half within voiced speech is left out.
	speech bool
	// perMinute and minCount, when set, make the events a rate: one clue
	// for all of them, when there are at least minCount and at least
	// perMinute a minute over the time the face was measured.
	perMinute float64
	minCount  int
}

// actionRules are the action clues, in the order package actions lists
// the actions.
var actionRules = []actionRule{
	// AU1+2 open the surprise prototype (1+2+5B+26) and the fear one
	// (1+2+4+5+20+26).
	{action: actions.BrowRaise, au: "AU1+AU2", unit: "fraction of the neutral brow height",
		phrase: phrase{"he raised his eyebrows", "他眉毛抬起"},
		w:      weights{"surprised": 0.7, "worried": 0.3}, scale: 1},
	// AU4 is in anger (4+5+7+23), sadness (1+4+15) and fear
	// (1+2+4+5+20); anger's is the brow lowered and drawn together that
	// the measure reads.
	{action: actions.BrowLower, au: "AU4", unit: "fraction of the neutral brow height and gap",
		phrase: phrase{"he furrowed his brows", "他皱眉，眉头紧锁"},
		w:      weights{"angry": 0.5, "worried": 0.25, "sad": 0.25}, scale: 1},
	// AU5 is in surprise (5B), fear (5) and anger (5).
	{action: actions.EyeWiden, au: "AU5", unit: "fraction of the neutral eye opening",
		phrase: phrase{"he widened his eyes", "他瞪大眼睛"},
		w:      weights{"surprised": 0.4, "worried": 0.35, "angry": 0.25}, scale: 1},
	// AU43 is in no prototype; drooping, closing lids go with sadness
	// (Ekman and Friesen, "Unmasking the Face", 1975, ch. 8) and with
	// relaxation.
	{action: actions.EyeClose, au: "AU43", unit: "share of the eye shut against the neutral opening",
		phrase:   phrase{"he closed his eyes", "他闭上眼睛"},
		attested: phrase{"closing his eyes", ""},
		w:        weights{"sad": 0.5, "calm": 0.5}, scale: 0.5},
	// AU45. Spontaneous blinking runs at about 17 a minute at rest and 26
	// in conversation (Bentivoglio et al., Movement Disorders 12(6), 1997);
	// anxious faces blink more (Harrigan and O'Connell, Personality and
	// Individual Differences 21(2), 1996). At the default 2 frames a
	// second most blinks fall between frames, so the measured rate is a
	// lower bound and 40 a minute is a clearly raised one.
	{action: actions.Blink, au: "AU45", unit: "blinks a minute",
		phrase:   phrase{"he blinked rapidly", "他频繁眨眼"},
		attested: phrase{"blinks rapidly", ""},
		w:        weights{"worried": 1}, scale: 0.5, perMinute: 40, minCount: 3},
	// AU12 is the smile of happiness (6+12); without AU6 it is also the
	// social smile, which the expression network weighs.
	{action: actions.Smile, au: "AU12", unit: "fraction of the neutral mouth width",
		phrase: phrase{"he smiled, the corners of his mouth turned up", "他面带微笑，嘴角上扬"},
		w:      weights{"happy": 1}, scale: 1},
	// AU15 is in sadness (1+4+15, 6+15) and disgust (9+15+16).
	{action: actions.LipCornerDepress, au: "AU15", unit: "fraction of the neutral mouth width",
		phrase:   phrase{"the corners of his mouth turned down", "他嘴角下垂"},
		attested: phrase{"the corners of his mouth are slightly downturned", ""},
		w:        weights{"sad": 0.7, "disgusted": 0.3}, scale: 1},
	// AU25 parts the lips in surprise and fear (with 26), disgust
	// (10+16+25), anger (...+25) and laughter; and in every word.
	{action: actions.MouthOpen, au: "AU25", unit: "lip gap over the mouth width, above the neutral",
		phrase: phrase{"he opened his mouth", "他嘴巴张开"},
		w:      weights{"surprised": 0.5, "worried": 0.25, "happy": 0.25}, scale: 0.5, speech: true},
	// AU26/27 close the surprise (1+2+5B+26 or 27) and fear (...+20+26)
	// prototypes.
	{action: actions.JawDrop, au: "AU26+AU27", unit: "fraction of the neutral chin depth",
		phrase: phrase{"he opened his mouth wide", "他张大嘴巴"},
		w:      weights{"surprised": 0.7, "worried": 0.3}, scale: 0.5, speech: true},
	// AU24 is in anger (4+5+7+24, 4+5+7+17+24) and in holding back
	// sadness or fear.
	{action: actions.LipPress, au: "AU24", unit: "fraction of the neutral lip height",
		phrase:   phrase{"he pressed his lips together", "他抿着嘴"},
		attested: phrase{"tightly closed lips", ""},
		w:        weights{"angry": 0.6, "sad": 0.2, "worried": 0.2}, scale: 0.5, speech: true},
	// A nod affirms and agrees (Hadar et al., "Head movement during
	// listening turns in conversation", Journal of Nonverbal Behavior
	// 9(4), 1985): a weak sign of a content or calm state.
	{action: actions.Nod, au: "head nod (pitch)", unit: "degrees of swing",
		phrase:   phrase{"he nodded", "他点头"},
		attested: phrase{"nodding his head", ""},
		w:        weights{"happy": 0.5, "calm": 0.5}, scale: 0.5},
	// A head shake negates, refuses and disagrees (Kendon, "Some uses of
	// the head shake", Gesture 2(2), 2002); of the labels, anger is the
	// disagreement's, sadness and worry the refusal's.
	{action: actions.HeadShake, au: "head shake (yaw)", unit: "degrees of swing",
		phrase: phrase{"he shook his head", "他摇头"},
		w:      weights{"angry": 0.5, "sad": 0.25, "worried": 0.25}, scale: 0.5},
	// The head hangs in sadness and in shame and embarrassment (Wallbott,
	// "Bodily expression of emotion", European Journal of Social
	// Psychology 28, 1998; Keltner, Journal of Personality and Social
	// Psychology 68(3), 1995): shyness is read as worry.
	{action: actions.LookDown, au: "head down (pitch)", unit: "degrees below the usual pitch",
		phrase: phrase{"he lowered his head", "他低下头"},
		w:      weights{"sad": 0.6, "worried": 0.4}, scale: 0.5},
	// Turning the head away averts the gaze, in embarrassment and
	// avoidance (Keltner 1995) and in disgust's turning from its object.
	// The head's yaw is measured, not the eyes'.
	{action: actions.LookAway, au: "head turn (yaw)", unit: "degrees from the usual yaw",
		phrase: phrase{"he turned his head away", "他转过头去"},
		w:      weights{"worried": 0.5, "sad": 0.3, "disgusted": 0.2}, scale: 0.5},
}

// Fusion and wording of the action clues.
const (
	// actionShare is the share of the face channel that action clues
	// whose scales add up to 1 or more take.
	actionShare = 0.5
	// maxActionClues: the strongest events (magnitude over threshold)
	// are told, in time order; the rest neither are told nor count.
	maxActionClues = 6
	// speechShare: an articulatory action lying at least this share
	// within voiced speech is speech.
	speechShare = 0.5
	// peakRule names the peak moment's clue.
	peakRule = "face.peak"
	// peakMinScore: a peak scoring less (actions.Peak.Score: 1 is one
	// face action at its entry threshold, or half the expression
	// probabilities moved) is too small a change to tell. Cues read back
	// from JSON have lost the score; their peak needs a clue to back it
	// all the same.
	peakMinScore = 1.0
)

// peakPhrase words the peak moment, with its time in seconds. The
// annotators speak of "expression changes" ("表情变化") but never give a
// time.
var (
	peakPhrase   = phrase{"his expression changed most at %s s", "他的表情在%s秒时变化最大"}
	peakAttested = phrase{"expression changes", "表情变化"}
)

// actionDefaults are the thresholds the events were found with: the
// evidence quotes their entry thresholds.
var actionDefaults = actions.DefaultOptions()

// actionThreshold is the entry threshold of a, in its rule's unit.
func actionThreshold(r *actionRule) float64 {
	o := &actionDefaults
	switch r.action {
	case actions.Blink:
		return r.perMinute
	case actions.LookDown:
		return o.LookDown.Enter
	case actions.LookAway:
		return o.LookAway.Enter
	case actions.Nod:
		return o.Nod.Amplitude
	case actions.HeadShake:
		return o.Shake.Amplitude
	}
	return o.Face[r.action].Enter
}

// faceActions is what package actions measured of a clip's main face.
type faceActions struct {
	events []actions.Event // of any track: only the main track's count
	peak   *actions.Peak
	track  int     // the main face's track
	fps    float64 // frames analysed a second: an event's last frame lasts 1/fps
	// from and to are the first and the last time the main face was
	// measured, the span of a rate.
	from, to float64
	duration float64       // the clip's, 0 when unknown
	voice    *voice.Report // nil when no voice was measured
	// exprChanged: the main face's dominant expression changed in the
	// clip, so that a peak within an expression's stretch is a change.
	exprChanged bool
}

// mainFaceActions is what package actions measured of c's main face: its
// events, its peak and the span of its measured frames (those with a head
// pose, or else those the face was found in); and the voice, to tell
// speech from expression.
func mainFaceActions(c *cues.Cues) faceActions {
	v := &c.Visual
	in := faceActions{events: v.Actions, peak: v.Peak, track: v.MainTrack, fps: v.FPS, duration: c.Duration}
	if c.Audio.Present {
		in.voice = c.Audio.Report
	}
	var ts []float64
	for _, p := range v.HeadPose {
		ts = append(ts, p.T)
	}
	if len(ts) == 0 {
		for _, f := range v.Faces {
			if f.Track == v.MainTrack {
				ts = append(ts, f.T)
			}
		}
	}
	if len(ts) > 0 {
		in.from, in.to = slices.Min(ts), slices.Max(ts)
	}
	for _, s := range v.Summary {
		in.exprChanged = in.exprChanged || s.Expression != v.Summary[0].Expression
	}
	return in
}

// frame returns the length of one analysed frame.
func (in *faceActions) frame() float64 {
	if in.fps > 0 {
		return 1 / in.fps
	}
	return 1 / 2.0
}

// span is the time range of a clue on the frames first..last: the last
// frame lasts one frame interval, up to the clip's end.
func (in *faceActions) span(first, last float64) (float64, float64) {
	end := last + in.frame()
	if in.duration > first && end > in.duration {
		end = in.duration
	}
	return round3(first), round3(end)
}

// actionClue is a clue of an action rule and its weight.
type actionClue struct {
	clue     Clue
	rule     *actionRule
	strength float64 // magnitude over threshold: the strongest are told
}

// actionClues returns the clues of the main face's events, in time order,
// the support they give the labels (not normalised) and the sum of their
// scales.
func actionClues(in faceActions, lang string) ([]Clue, map[string]float64, float64) {
	byAction := map[actions.Action][]actions.Event{}
	for _, e := range in.events {
		if e.Track == in.track {
			byAction[e.Action] = append(byAction[e.Action], e)
		}
	}
	var found []actionClue
	for i := range actionRules {
		r := &actionRules[i]
		evs := byAction[r.action]
		if len(evs) == 0 {
			continue
		}
		if r.perMinute > 0 {
			if c, ok := in.rateClue(r, evs, lang); ok {
				found = append(found, c)
			}
			continue
		}
		for _, e := range evs {
			start, end := in.span(e.Start, e.End)
			if r.speech && in.inSpeech(start, end) {
				continue
			}
			if r.action == actions.MouthOpen && overlaps(byAction[actions.JawDrop], e, in.frame()) {
				continue // the jaw drop's clue says it
			}
			th := actionThreshold(r)
			strength := math.Abs(e.Magnitude) / th
			found = append(found, actionClue{rule: r, strength: strength, clue: Clue{
				Aspect: AspectVisual, Text: r.phrase.in(lang), Start: start, End: end,
				Evidence: map[string]any{
					"rule":            "action." + string(r.action),
					"action":          string(r.action),
					"au":              r.au,
					"track":           e.Track,
					"start_s":         round3(e.Start),
					"end_s":           round3(e.End),
					"magnitude":       round3(e.Magnitude),
					"unit":            r.unit,
					"threshold":       th,
					"times_threshold": round3(strength),
					"measure":         e.Text(),
				},
			}})
		}
	}
	if len(found) > maxActionClues {
		sort.SliceStable(found, func(i, j int) bool { return found[i].strength > found[j].strength })
		found = found[:maxActionClues]
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i].clue, found[j].clue
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.End < b.End
	})
	clues := make([]Clue, len(found))
	scores := map[string]float64{}
	var scale float64
	for i, f := range found {
		clues[i] = f.clue
		for label, w := range f.rule.w {
			scores[label] += w * f.rule.scale
		}
		scale += f.rule.scale
	}
	return clues, scores, scale
}

// rateClue is the clue of a rate rule over events evs, when they are
// frequent enough.
func (in *faceActions) rateClue(r *actionRule, evs []actions.Event, lang string) (actionClue, bool) {
	span := in.to - in.from + in.frame()
	if len(evs) < r.minCount || span <= 0 {
		return actionClue{}, false
	}
	rate := float64(len(evs)) / span * 60
	if rate < r.perMinute {
		return actionClue{}, false
	}
	list := make([]map[string]any, len(evs))
	for i, e := range evs {
		list[i] = map[string]any{"start_s": round3(e.Start), "end_s": round3(e.End), "magnitude": round3(e.Magnitude)}
	}
	start, end := in.span(evs[0].Start, evs[len(evs)-1].End)
	return actionClue{rule: r, strength: rate / r.perMinute, clue: Clue{
		Aspect: AspectVisual, Text: r.phrase.in(lang), Start: start, End: end,
		Evidence: map[string]any{
			"rule":      "action." + string(r.action),
			"action":    string(r.action),
			"au":        r.au,
			"track":     in.track,
			"count":     len(evs),
			"min_count": r.minCount,
			"span_s":    round3(span),
			"rate":      round3(rate),
			"unit":      r.unit,
			"threshold": r.perMinute,
			"events":    list,
		},
	}}, true
}

// inSpeech reports whether at least speechShare of start..end lies within
// voiced speech: from the first to the last voiced frame, pauses left
// out.
func (in *faceActions) inSpeech(start, end float64) bool {
	r := in.voice
	if r == nil || r.F0 == nil || end <= start {
		return false
	}
	within := overlap(start, end, r.SpeechStart, r.SpeechEnd)
	for _, p := range r.Pauses {
		within -= overlap(max(start, r.SpeechStart), min(end, r.SpeechEnd), p.Start, p.End)
	}
	return within >= speechShare*(end-start)-1e-9
}

// overlap is the length of the intersection of a..b and c..d.
func overlap(a, b, c, d float64) float64 {
	return max(0, min(b, d)-max(a, c))
}

// overlaps reports whether e shares a frame with one of evs.
func overlaps(evs []actions.Event, e actions.Event, frame float64) bool {
	for _, o := range evs {
		if o.Track == e.Track && overlap(e.Start, e.End+frame, o.Start, o.End+frame) > 1e-9 {
			return true
		}
	}
	return false
}

// peakClue is the clue of the peak moment, when it scores at least
// peakMinScore (or its score was lost) and falls within a told clue of a
// movement, or of a non-neutral expression when the expression changed in
// the clip: a peak nothing measured at threshold backs is a change too
// small to tell (on a still picture, the noise of the networks).
func peakClue(in faceActions, told []Clue, lang string) (Clue, bool) {
	p := in.peak
	if p == nil || p.Score > 0 && p.Score < peakMinScore {
		return Clue{}, false
	}
	var during []string
	for _, cl := range told {
		rule, _ := cl.Evidence["rule"].(string)
		switch {
		case rule == "face.neutral" || rule == "action."+string(actions.Blink) || rule == peakRule:
			continue
		case strings.HasPrefix(rule, "face.") && !in.exprChanged:
			continue
		}
		if p.T >= cl.Start-1e-9 && p.T < cl.End-1e-9 {
			during = append(during, rule)
		}
	}
	if len(during) == 0 {
		return Clue{}, false
	}
	start, end := in.span(p.T, p.T)
	at := strconv.FormatFloat(math.Round(p.T*10)/10, 'f', -1, 64)
	return Clue{Aspect: AspectVisual, Text: fmt.Sprintf(peakPhrase.in(lang), at), Start: start, End: end, Evidence: map[string]any{
		"rule":   peakRule,
		"track":  in.track,
		"t":      round3(p.T),
		"reason": p.Reason,
		"during": during,
	}}, true
}

// addActions adds the action clues and the peak moment to the face
// channel, whose clues and scores so far are the expression network's:
// the clues in time order, the action support as actionShare of the
// channel (see the action rules).
func (ch *channel) addActions(in faceActions, lang string) {
	clues, support, scale := actionClues(in, lang)
	if len(clues) > 0 {
		share := actionShare * min(1, scale)
		if len(ch.clues) == 0 {
			share = 1
		}
		expr := normalized(ch.scores)
		ch.scores = map[string]float64{}
		for label, v := range expr {
			ch.scores[label] += (1 - share) * v
		}
		for label, v := range normalized(support) {
			ch.scores[label] += share * v
		}
		ch.clues = mergeByStart(ch.clues, clues)
	}
	if len(ch.clues) == 0 {
		return
	}
	if p, ok := peakClue(in, ch.clues, lang); ok {
		ch.clues = mergeByStart(ch.clues, []Clue{p})
	}
}

// mergeByStart merges two lists of clues in time order, a's first on
// ties.
func mergeByStart(a, b []Clue) []Clue {
	out := make([]Clue, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}
