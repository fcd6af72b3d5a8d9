package grounding

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"emer/internal/actions"
	"emer/internal/cues"
	"emer/internal/textcue"
	"emer/internal/voice"
)

// Aspects of a claim: EMER's four sources of clues, and the inference
// that names the emotion.
const (
	Visual    = "visual"    // facial expressions and body movements
	Audio     = "audio"     // tone and intonation of the voice, and the sound
	Content   = "content"   // what is said
	Context   = "context"   // the scene, the people, the story
	Inference = "inference" // the emotion inferred from the clues
)

// Verdicts of a claim.
const (
	Supported    = "supported"
	Contradicted = "contradicted"
	Unverifiable = "unverifiable"
)

// Claim is one claim of a description, checked.
type Claim struct {
	Text    string `json:"text"`
	Aspect  string `json:"aspect"`
	Verdict string `json:"verdict"`
	// Evidence holds the rule and its test, the measured values it
	// compared and, for an unverifiable claim, the reason. Never nil.
	Evidence map[string]any `json:"evidence"`
}

// Measures are what claims are checked against: a clip's measured cues
// and the measures of its sound. Either may be nil; a claim that needs a
// missing one is unverifiable, with Reason (when set) as the reason.
type Measures struct {
	Cues   *cues.Cues
	Scene  *Scene
	Reason string
}

// Check splits a description into claims (Split), gives each its aspect,
// and checks those about the face, the voice and the words against m by
// the rules of rules.go. m nil checks nothing: every claim is
// unverifiable.
func Check(description string, m *Measures) []Claim {
	out := []Claim{}
	for _, text := range Split(description) {
		out = append(out, CheckClaim(text, m))
	}
	return out
}

// CheckClaim checks one claim. A claim that several rules match is
// contradicted when one of them contradicts it, else supported when one
// supports it, else unverifiable; the evidence then lists each rule's.
func CheckClaim(text string, m *Measures) Claim {
	c := Claim{Text: text}
	plain := unquoted(text)
	var parts []map[string]any
	var verdicts []string
	for i := range Rules {
		r := &Rules[i]
		var res result
		if r.ID == "content.quote" {
			quotes := quotesIn(text)
			if len(quotes) == 0 {
				continue
			}
			res = quoteRule(m, quotes)
		} else {
			negated, ok := r.match(plain)
			if !ok {
				continue
			}
			res = r.run(m)
			if negated {
				res = res.negated()
			}
		}
		if c.Aspect == "" {
			c.Aspect = r.Aspect
		}
		ev := map[string]any{"rule": r.ID, "test": r.Test}
		for k, v := range res.ev {
			ev[k] = v
		}
		parts = append(parts, ev)
		verdicts = append(verdicts, res.verdict)
	}
	switch len(parts) {
	case 0:
		c.Aspect = aspectOf(plain)
		c.Verdict = Unverifiable
		c.Evidence = map[string]any{"reason": unmeasured[c.Aspect]}
		return c
	case 1:
		c.Evidence = parts[0]
	default:
		c.Evidence = map[string]any{"rules": parts}
	}
	switch {
	case slices.Contains(verdicts, Contradicted):
		c.Verdict = Contradicted
	case slices.Contains(verdicts, Supported):
		c.Verdict = Supported
	default:
		c.Verdict = Unverifiable
	}
	return c
}

// unmeasured says why a claim no rule matched is unverifiable.
var unmeasured = map[string]string{
	Visual:    "no measured test for this claim about the face or body",
	Audio:     "no measured test for this claim about the voice",
	Content:   "no measured test for this claim about the words",
	Context:   "the scene and the context are not measured",
	Inference: "an inference about the emotion, not a measured cue",
}

func noMedia(m *Measures) string {
	if m != nil && m.Reason != "" {
		return m.Reason
	}
	return "nothing was measured"
}

// result is a rule's verdict and the measured values it rests on.
type result struct {
	verdict string
	ev      map[string]any
}

func (r result) negated() result {
	ev := map[string]any{"negated": true}
	for k, v := range r.ev {
		ev[k] = v
	}
	switch r.verdict {
	case Supported:
		return result{Contradicted, ev}
	case Contradicted:
		return result{Supported, ev}
	}
	return result{r.verdict, ev}
}

func unverifiable(reason string, ev map[string]any) result {
	out := map[string]any{"reason": reason}
	for k, v := range ev {
		out[k] = v
	}
	return result{Unverifiable, out}
}

func (r *Rule) run(m *Measures) result {
	if m == nil || m.Cues == nil && m.Scene == nil {
		return unverifiable(noMedia(m), nil)
	}
	return r.test(m)
}

// compiled patterns of a rule, built once.
type patterns struct {
	en, exceptEN *regexp.Regexp
}

var compiled = sync.OnceValue(func() map[string]patterns {
	out := map[string]patterns{}
	for _, r := range Rules {
		out[r.ID] = patterns{en: alternation(r.EN), exceptEN: alternation(r.ExceptEN)}
	}
	return out
})

// alternation compiles English phrases into one case-insensitive regular
// expression anchored at word starts; nil for none.
func alternation(phrases []string) *regexp.Regexp {
	if len(phrases) == 0 {
		return nil
	}
	return regexp.MustCompile(`(?i)\b(?:` + strings.Join(phrases, "|") + `)`)
}

// match reports whether the rule's phrases occur in text, and whether the
// first occurrence is negated.
func (r *Rule) match(text string) (negated, ok bool) {
	p := compiled()[r.ID]
	if p.exceptEN != nil && p.exceptEN.MatchString(text) {
		return false, false
	}
	for _, z := range r.ExceptZH {
		if strings.Contains(text, z) {
			return false, false
		}
	}
	at, end := -1, -1
	if p.en != nil {
		if loc := p.en.FindStringIndex(text); loc != nil {
			at, end = loc[0], loc[1]
		}
	}
	for _, z := range r.ZH {
		if i := strings.Index(text, z); i >= 0 && (at < 0 || i < at) {
			at, end = i, -1
		}
	}
	if at < 0 {
		return false, false
	}
	return negatedBefore(text[:at]) || end >= 0 && negatedWithin(text[at:end]), true
}

// negatedWithin reports whether an English phrase matched with words in
// between holds a negator ("the volume was not high"), unless it starts
// with one ("no expression" is the phrase itself).
func negatedWithin(span string) bool {
	toks := enWord.FindAllString(span, -1)
	for i, t := range toks {
		t = strings.ToLower(t)
		if enNegators[t] || strings.HasSuffix(t, "n't") || strings.HasSuffix(t, "n’t") {
			return i > 0
		}
	}
	return false
}

// English negators within negWords words before a phrase negate it;
// Chinese negators within negRunes characters, unless part of a word in
// zhNotNegating.
const (
	negWords = 3
	negRunes = 5
)

var (
	enNegators    = map[string]bool{"not": true, "no": true, "never": true, "without": true, "nor": true, "neither": true, "hardly": true, "barely": true, "rarely": true, "seldom": true, "cannot": true, "lack": true, "lacks": true, "lacked": true, "lacking": true}
	zhNegators    = []string{"没有", "没", "不", "未", "无", "毫无", "并未", "从未"}
	zhNotNegating = []string{"不断", "不停", "忍不住", "不禁", "不由", "不住", "不仅", "不时", "无比", "不少", "无法掩饰", "掩饰不住", "止不住", "不一会", "不久", "不得不", "不管", "不论", "毫不犹豫"}
	enWord        = regexp.MustCompile(`[\p{L}'’]+`)
)

func negatedBefore(before string) bool {
	toks := enWord.FindAllString(before, -1)
	for _, t := range toks[max(0, len(toks)-negWords):] {
		t = strings.ToLower(t)
		if enNegators[t] || strings.HasSuffix(t, "n't") || strings.HasSuffix(t, "n’t") {
			return true
		}
	}
	rs := []rune(before)
	win := string(rs[max(0, len(rs)-negRunes-3):])
	for _, w := range zhNotNegating {
		win = strings.ReplaceAll(win, w, "·")
	}
	wr := []rune(win)
	tail := string(wr[max(0, len(wr)-negRunes):])
	for _, n := range zhNegators {
		if strings.Contains(tail, n) {
			return true
		}
	}
	return false
}

// quoteMarks find quoted phrases.
var quoteMarks = regexp.MustCompile(`"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』`)

// quotesIn returns the quoted phrases of text.
func quotesIn(text string) []string {
	var out []string
	for _, m := range quoteMarks.FindAllStringSubmatch(text, -1) {
		for _, g := range m[1:] {
			if strings.TrimSpace(g) != "" {
				out = append(out, g)
			}
		}
	}
	return out
}

// unquoted blanks out the quoted phrases of text: what was said is not
// what the claim says of the clip.
func unquoted(text string) string {
	return quoteMarks.ReplaceAllStringFunc(text, func(q string) string { return `""` })
}

// aspectOf classifies a claim no rule matched.
func aspectOf(text string) string {
	switch {
	case inferenceMarkers.in(text):
		return Inference
	case visualWords.in(text):
		return Visual
	case audioWords.in(text):
		return Audio
	case contentWords.in(text) || len(quotesIn(text)) > 0:
		return Content
	case inferenceHints.in(text) || namesEmotion(text):
		return Inference
	}
	return Context
}

// words are aspect keywords: English phrases (regular expressions at word
// starts) and Chinese substrings.
type words struct {
	EN, ZH []string
	once   sync.Once
	re     *regexp.Regexp
}

func (w *words) in(text string) bool {
	w.once.Do(func() { w.re = alternation(w.EN) })
	if w.re != nil && w.re.MatchString(text) {
		return true
	}
	for _, z := range w.ZH {
		if strings.Contains(text, z) {
			return true
		}
	}
	return false
}

var lexicon = sync.OnceValue(textcue.DefaultLexicon)

// namesEmotion reports whether text holds an emotion word of the
// emotion-wheel lexicon.
func namesEmotion(text string) bool {
	return len(lexicon().Analyze(textcue.Segment{Text: text}).EmotionWords) > 0
}

// Tests. Each reads what it needs from m, or says why it cannot.

func (m *Measures) visual() (*cues.Visual, string) {
	if m.Cues == nil {
		return nil, noMedia(m)
	}
	v := &m.Cues.Visual
	if !v.Present || v.MainTrack == 0 {
		if v.Reason != "" {
			return nil, "no face was measured: " + v.Reason
		}
		return nil, "no face was measured"
	}
	return v, ""
}

func (m *Measures) voice() (*voice.Report, string) {
	if m.Cues == nil {
		return nil, noMedia(m)
	}
	a := m.Cues.Audio
	if !a.Present || a.Report == nil {
		if a.Reason != "" {
			return nil, "no voice was measured: " + a.Reason
		}
		return nil, "no voice was measured"
	}
	return a.Report, ""
}

// voiced is voice for tests that need voiced speech.
func (m *Measures) voiced() (*voice.Report, string) {
	r, why := m.voice()
	if r != nil && r.F0 == nil {
		return nil, "no voiced speech was measured"
	}
	return r, why
}

func (m *Measures) text() (*cues.Text, string) {
	if m.Cues == nil {
		return nil, noMedia(m)
	}
	t := &m.Cues.Text
	if !t.Present || t.Result == nil {
		if t.Reason != "" {
			return nil, "no subtitle: " + t.Reason
		}
		return nil, "no subtitle"
	}
	return t, ""
}

func notMeasured(reason string) func(*Measures) result {
	return func(*Measures) result { return unverifiable(reason, nil) }
}

// faceRule tests a claim that the main face showed one of exprs, or made
// one of acts.
func faceRule(exprs []string, acts ...actions.Action) func(*Measures) result {
	return func(m *Measures) result {
		v, why := m.visual()
		if v == nil {
			return unverifiable(why, nil)
		}
		frames := 0
		var top, sum float64
		for _, f := range v.Faces {
			if f.Track != v.MainTrack {
				continue
			}
			frames++
			var p float64
			for _, e := range exprs {
				p = math.Max(p, f.Expressions[e])
			}
			top, sum = math.Max(top, p), sum+p
		}
		segs := []map[string]any{}
		for _, s := range v.Summary {
			if slices.Contains(exprs, s.Expression) && s.End-s.Start >= FaceMinSec-1e-9 && s.MeanProb >= FaceProb {
				segs = append(segs, map[string]any{"expression": s.Expression, "start_s": round3(s.Start), "end_s": round3(s.End), "mean_prob": round3(s.MeanProb)})
			}
		}
		dominant := map[string]float64{}
		for _, s := range v.Summary {
			dominant[s.Expression] += s.End - s.Start
		}
		ev := map[string]any{"track": v.MainTrack, "frames": frames, "expressions": exprs, "segments": segs, "dominant_s": roundMap(dominant)}
		if frames > 0 {
			ev["max_prob"], ev["mean_prob"] = round3(top), round3(sum/float64(frames))
		}
		acted := mainActions(v, acts...)
		if len(acts) > 0 {
			ev["actions"] = acted
		}
		switch {
		case len(segs) > 0 || len(acted) > 0:
			return result{Supported, ev}
		case frames >= FaceMinFrames && top < FaceProb:
			return result{Contradicted, ev}
		case frames < FaceMinFrames:
			return unverifiable("the main face was measured on too few frames", ev)
		}
		return unverifiable("the expression showed in some frames but never dominated a stretch", ev)
	}
}

// mainActions returns the main face's action events of the kinds acts,
// for the evidence.
func mainActions(v *cues.Visual, acts ...actions.Action) []map[string]any {
	out := []map[string]any{}
	for _, e := range v.Actions {
		if e.Track == v.MainTrack && slices.Contains(acts, e.Action) {
			out = append(out, map[string]any{"action": string(e.Action), "start_s": round3(e.Start), "end_s": round3(e.End), "magnitude": round3(e.Magnitude)})
		}
	}
	return out
}

// headRule tests a claim that the main face's head made movement a; a
// brief movement's absence counts only at HeadMinFPS.
func headRule(a actions.Action, brief bool) func(*Measures) result {
	return func(m *Measures) result {
		v, why := m.visual()
		if v == nil {
			return unverifiable(why, nil)
		}
		acted := mainActions(v, a)
		span := 0.0
		if n := len(v.HeadPose); n > 1 {
			span = v.HeadPose[n-1].T - v.HeadPose[0].T
		}
		ev := map[string]any{"track": v.MainTrack, "actions": acted, "pose_frames": len(v.HeadPose), "pose_s": round3(span), "fps": v.FPS}
		switch {
		case len(acted) > 0:
			return result{Supported, ev}
		case len(v.HeadPose) == 0:
			return unverifiable("the head pose was not measured (no landmarks)", ev)
		case span < HeadMinSec:
			return unverifiable("the head pose was measured over too short a time", ev)
		case brief && v.FPS < HeadMinFPS:
			return unverifiable(fmt.Sprintf("at %g frames a second the movement can fall between frames", v.FPS), ev)
		}
		return result{Contradicted, ev}
	}
}

// events returns the voice events of kind whose change is at least min
// (in absolute value), for the evidence.
func events(r *voice.Report, kind string, min float64) []map[string]any {
	out := []map[string]any{}
	for _, e := range r.Events {
		if e.Kind == kind && math.Abs(e.Change) >= min-1e-9 {
			out = append(out, map[string]any{"start_s": round3(e.Start), "end_s": round3(e.End), "change": round3(e.Change), "unit": e.Unit})
		}
	}
	return out
}

// level returns the recording level, when the sound was measured.
func (m *Measures) level() (float64, bool) {
	if m.Scene == nil || m.Scene.Sounding == 0 {
		return 0, false
	}
	return m.Scene.LevelDB, true
}

func loudness(m *Measures, wantLoud bool) result {
	r, why := m.voice()
	if r == nil {
		return unverifiable(why, nil)
	}
	louder, quieter := events(r, voice.EventLouder, 0), events(r, voice.EventQuieter, 0)
	ev := map[string]any{"louder": louder, "quieter": quieter}
	lvl, hasLevel := m.level()
	if hasLevel {
		ev["level_db"] = lvl
	}
	loud := len(louder) > 0 || hasLevel && lvl >= LoudLevelDB
	quiet := len(quieter) > 0 || hasLevel && lvl < QuietLevelDB
	if !wantLoud {
		loud, quiet = quiet, loud
	}
	switch {
	case loud:
		return result{Supported, ev}
	case quiet:
		return result{Contradicted, ev}
	}
	return unverifiable("the loudness stayed at the speaker's own level and the recording level is in the usual range", ev)
}

func loudRule(m *Measures) result  { return loudness(m, true) }
func quietRule(m *Measures) result { return loudness(m, false) }

func lowRule(m *Measures) result {
	r, why := m.voice()
	if r == nil {
		return unverifiable(why, nil)
	}
	low, quieter := events(r, voice.EventPitchLow, PitchDrop), events(r, voice.EventQuieter, 0)
	high, louder := events(r, voice.EventPitchHigh, 0), events(r, voice.EventLouder, 0)
	ev := map[string]any{"pitch_low": low, "quieter": quieter, "pitch_high": high, "louder": louder}
	if r.F0 != nil {
		ev["f0_mean_hz"] = round3(r.F0.Mean)
	}
	switch {
	case len(low) > 0 || len(quieter) > 0:
		return result{Supported, ev}
	case len(high) > 0 || len(louder) > 0:
		return result{Contradicted, ev}
	}
	return unverifiable("neither the pitch nor the loudness left the speaker's own level", ev)
}

func highRule(m *Measures) result {
	r, why := m.voiced()
	if r == nil {
		return unverifiable(why, nil)
	}
	high, rise := events(r, voice.EventPitchHigh, 0), events(r, voice.EventPitchRise, 0)
	ev := map[string]any{"pitch_high": high, "pitch_rise": rise, "f0_mean_hz": round3(r.F0.Mean)}
	switch {
	case len(high) > 0 || len(rise) > 0 || r.F0.Mean >= HighPitchHz:
		return result{Supported, ev}
	case r.F0.Mean < LowPitchHz:
		return result{Contradicted, ev}
	}
	return unverifiable("the pitch did not rise against the speaker's own level, and its mean is in the range of both high and low voices", ev)
}

// rate returns the voiced report with at least MinSpeechSec of speech.
func (m *Measures) rate() (*voice.Report, map[string]any, string) {
	r, why := m.voiced()
	if r == nil {
		return nil, nil, why
	}
	ev := map[string]any{"speech_rate": round3(r.SpeechRate), "voiced_segments": r.VoicedSegments, "speech_s": round3(r.SpeechEnd - r.SpeechStart)}
	if r.SpeechEnd-r.SpeechStart < MinSpeechSec {
		return nil, ev, "less than 1 s of speech"
	}
	return r, ev, ""
}

func fastRule(m *Measures) result {
	r, ev, why := m.rate()
	switch {
	case r == nil:
		return unverifiable(why, ev)
	case r.SpeechRate >= FastRate:
		return result{Supported, ev}
	case r.SpeechRate <= SlowRate:
		return result{Contradicted, ev}
	}
	return unverifiable("the speech rate is in the usual range", ev)
}

func slowRule(m *Measures) result {
	r, ev, why := m.rate()
	switch {
	case r == nil:
		return unverifiable(why, ev)
	case r.SpeechRate <= SlowRate:
		return result{Supported, ev}
	case r.SpeechRate >= FastRate:
		return result{Contradicted, ev}
	}
	return unverifiable("the speech rate is in the usual range", ev)
}

func trembleRule(m *Measures) result {
	r, why := m.voiced()
	if r == nil {
		return unverifiable(why, nil)
	}
	if r.ShimmerLocal == nil {
		return unverifiable("too few voice periods to measure shimmer", nil)
	}
	ev := map[string]any{"shimmer_local": round3(*r.ShimmerLocal)}
	if r.JitterLocal != nil {
		ev["jitter_local"] = round3(*r.JitterLocal)
	}
	switch {
	case *r.ShimmerLocal >= TrembleShimmer:
		return result{Supported, ev}
	case *r.ShimmerLocal < SteadyShimmer:
		return result{Contradicted, ev}
	}
	return unverifiable("the shimmer is in the usual range", ev)
}

// variation returns the pitch's coefficient of variation and whether the
// level changed against the speaker's own.
func variation(m *Measures) (cv float64, levelChange bool, ev map[string]any, why string) {
	r, why := m.voiced()
	if r == nil || r.F0.Mean <= 0 {
		if why == "" {
			why = "no pitch was measured"
		}
		return 0, false, nil, why
	}
	cv = r.F0.SD / r.F0.Mean
	for _, e := range r.Events {
		switch e.Kind {
		case voice.EventLouder, voice.EventQuieter, voice.EventPitchHigh, voice.EventPitchLow:
			levelChange = true
		}
	}
	return cv, levelChange, map[string]any{"f0_mean_hz": round3(r.F0.Mean), "f0_sd_hz": round3(r.F0.SD), "f0_cv": round3(cv), "level_change": levelChange}, ""
}

func flatRule(m *Measures) result {
	cv, changed, ev, why := variation(m)
	switch {
	case ev == nil:
		return unverifiable(why, nil)
	case cv <= FlatCV && !changed:
		return result{Supported, ev}
	case cv >= LivelyCV:
		return result{Contradicted, ev}
	}
	return unverifiable("the pitch varied within the usual range", ev)
}

func livelyRule(m *Measures) result {
	cv, changed, ev, why := variation(m)
	switch {
	case ev == nil:
		return unverifiable(why, nil)
	case cv >= LivelyCV:
		return result{Supported, ev}
	case cv <= FlatCV && !changed:
		return result{Contradicted, ev}
	}
	return unverifiable("the pitch varied within the usual range", ev)
}

func pauseRule(m *Measures) result {
	r, why := m.voiced()
	if r == nil {
		return unverifiable(why, nil)
	}
	long := events(r, voice.EventLongPause, 0)
	speech := r.SpeechEnd - r.SpeechStart
	ev := map[string]any{"long_pauses": long, "pauses": len(r.Pauses), "speech_s": round3(speech)}
	switch {
	case len(long) > 0:
		return result{Supported, ev}
	case len(r.Pauses) == 0 && speech >= PauseSpeechSec:
		return result{Contradicted, ev}
	}
	return unverifiable("pauses too short or speech too brief to tell", ev)
}

func musicRule(m *Measures) result {
	s := m.Scene
	if s == nil {
		if m.Reason != "" {
			return unverifiable(m.Reason, nil)
		}
		return unverifiable("the sound was not measured", nil)
	}
	ev := map[string]any{"tone_share": s.ToneShare, "foreign_share": s.ForeignShare, "longest_tone_s": s.LongestTone, "sound_s": s.SoundSec, "level_db": s.LevelDB}
	switch {
	case s.SoundSec < MinSoundSec:
		return unverifiable("less than 1 s of sound", ev)
	case s.ToneShare >= MusicToneShare || s.ForeignShare >= MusicForeignShare:
		return result{Supported, ev}
	case s.ToneShare <= SpeechToneShare && s.ForeignShare <= SpeechForeignMax:
		return result{Contradicted, ev}
	}
	return unverifiable("some held tones, too few to tell music from a held voice", ev)
}

func quoteRule(m *Measures, quotes []string) result {
	if m == nil || m.Cues == nil {
		return unverifiable(noMedia(m), map[string]any{"quotes": quotes})
	}
	t, why := m.text()
	if t == nil {
		return unverifiable(why, map[string]any{"quotes": quotes})
	}
	sub := tokens(t.Subtitle)
	have := map[string]bool{}
	for _, w := range sub {
		have[w] = true
	}
	subHan := hasHan(t.Subtitle)
	ev := map[string]any{"quotes": quotes, "subtitle": excerpt(t.Subtitle, 120)}
	found := []float64{}
	verdict := Supported
	for _, q := range quotes {
		toks := tokens(q)
		if len(toks) == 0 {
			continue
		}
		if hasHan(q) != subHan {
			ev["found"] = found
			return unverifiable("the quote and the subtitle are in different languages", ev)
		}
		n := 0
		for _, w := range toks {
			if have[w] {
				n++
			}
		}
		share := float64(n) / float64(len(toks))
		if strings.Contains(strings.Join(sub, " "), strings.Join(toks, " ")) {
			share = 1
		}
		found = append(found, round3(share))
		switch {
		case share < QuoteMissing:
			verdict = Contradicted
		case share < QuoteFound && verdict == Supported:
			verdict = Unverifiable
		}
	}
	ev["found"] = found
	if verdict == Unverifiable {
		return unverifiable("the quote is only partly in the subtitle", ev)
	}
	return result{verdict, ev}
}

func questionRule(m *Measures) result {
	t, why := m.text()
	if t == nil {
		return unverifiable(why, nil)
	}
	ev := map[string]any{"questions": t.Questions, "subtitle": excerpt(t.Subtitle, 120)}
	if t.Questions > 0 || strings.ContainsAny(t.Subtitle, "?？") {
		return result{Supported, ev}
	}
	return unverifiable("the subtitle has no question mark (subtitles often drop punctuation)", ev)
}

func exclaimRule(m *Measures) result {
	t, why := m.text()
	if t == nil {
		return unverifiable(why, nil)
	}
	ev := map[string]any{"exclamations": t.Exclamations, "subtitle": excerpt(t.Subtitle, 120)}
	if t.Exclamations > 0 {
		return result{Supported, ev}
	}
	return unverifiable("the subtitle has no exclamation mark (subtitles often drop punctuation)", ev)
}

func polarity(m *Measures, wantPositive bool) result {
	t, why := m.text()
	if t == nil {
		return unverifiable(why, nil)
	}
	var pos, neg []string
	for _, w := range t.EmotionWords {
		p := textcue.Polarity(w.Category)
		if w.Negated {
			p = -p
		}
		switch {
		case p > 0:
			pos = append(pos, w.Word)
		case p < 0:
			neg = append(neg, w.Word)
		}
	}
	ev := map[string]any{"valence": round3(t.Valence), "valence_method": t.ValenceMethod, "positive_words": nonNil(pos), "negative_words": nonNil(neg), "subtitle": excerpt(t.Subtitle, 120)}
	v := t.Valence
	if !wantPositive {
		v, pos, neg = -v, neg, pos
	}
	switch {
	case v >= ClearValence || len(pos) > 0:
		return result{Supported, ev}
	case v <= -ClearValence:
		return result{Contradicted, ev}
	}
	return unverifiable("the words carry no clear valence", ev)
}

func positiveRule(m *Measures) result { return polarity(m, true) }
func negativeRule(m *Measures) result { return polarity(m, false) }

// tokens are the words of s for comparing quotes: lower-case words and
// numbers, and each Chinese character on its own.
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case isHan(r):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’':
			if r == '’' {
				r = '\''
			}
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

func hasHan(s string) bool { return strings.IndexFunc(s, isHan) >= 0 }

func excerpt(s string, n int) string {
	rs := []rune(strings.Join(strings.Fields(s), " "))
	if len(rs) <= n {
		return string(rs)
	}
	return string(rs[:n]) + "…"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func roundMap(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = round3(v)
	}
	return out
}

// Totals counts claims by verdict.
type Totals struct {
	Claims       int `json:"claims"`
	Supported    int `json:"supported"`
	Contradicted int `json:"contradicted"`
	Unverifiable int `json:"unverifiable"`
	// GroundedRate is supported / (supported + contradicted), nil when no
	// claim was decided.
	GroundedRate *float64 `json:"grounded_rate"`
}

// Count returns the totals of claims.
func Count(claims []Claim) Totals {
	var t Totals
	for _, c := range claims {
		t.add(c.Verdict)
	}
	t.rate()
	return t
}

// Add adds u's counts to t and computes the rate again.
func (t *Totals) Add(u Totals) {
	t.Claims += u.Claims
	t.Supported += u.Supported
	t.Contradicted += u.Contradicted
	t.Unverifiable += u.Unverifiable
	t.rate()
}

func (t *Totals) add(verdict string) {
	t.Claims++
	switch verdict {
	case Supported:
		t.Supported++
	case Contradicted:
		t.Contradicted++
	default:
		t.Unverifiable++
	}
}

func (t *Totals) rate() {
	t.GroundedRate = nil
	if d := t.Supported + t.Contradicted; d > 0 {
		r := float64(t.Supported) / float64(d)
		t.GroundedRate = &r
	}
}

// Aspects lists the aspects of claims in the order reports give them.
var Aspects = []string{Visual, Audio, Content, Context, Inference}
