package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"emer/internal/cues"
	"emer/internal/face"
	"emer/internal/textcue"
	"emer/internal/voice"
)

// Input is what an Explainer explains: a clip, its measured cues, and the
// subtitle to quote to a model.
type Input struct {
	Clip string // the clip's path: frames and audio are read from it
	// Cues are the clip's measured cues (cues.Analyze). The local backend
	// needs them; the llm backend reads the subtitle from them when
	// Subtitle is empty, and puts their summary in the prompt in cues mode.
	Cues *cues.Cues
	// Subtitle, when not empty, is the subtitle quoted in the prompt,
	// instead of the one found with the clip.
	Subtitle string
}

// Explainer explains a clip's emotion. Implementations are safe for
// concurrent use once configured.
type Explainer interface {
	Explain(ctx context.Context, in Input) (*Explanation, error)
}

// VoiceClassifier predicts emotions from a clip's voice. A fitted
// voice-emotion model plugs into Local through it; one that needs the
// samples reads them from the clip (the measured cues do not keep them).
// Implementations are safe for concurrent use.
type VoiceClassifier interface {
	ClassifyVoice(ctx context.Context, v VoiceInput) (VoicePrediction, error)
}

// VoiceInput is what Local knows of a clip's voice.
type VoiceInput struct {
	Clip   string        // the clip's path
	Report *voice.Report // the prosody package voice measured
	// Features are the clip's named voice measures for a fitted model
	// (cues.Audio.Features), when the cue extraction measured them.
	Features map[string]float64
}

// VoiceFunc adapts a function to VoiceClassifier.
type VoiceFunc func(ctx context.Context, v VoiceInput) (VoicePrediction, error)

// ClassifyVoice calls f.
func (f VoiceFunc) ClassifyVoice(ctx context.Context, v VoiceInput) (VoicePrediction, error) {
	return f(ctx, v)
}

// VoicePrediction is what a voice classifier says of one clip.
type VoicePrediction struct {
	Model string             // the classifier's name and version
	Probs map[string]float64 // label -> probability, in the classifier's own label names
	// Contributions, optional, say how much each measured feature pushed
	// the prediction of the top label; they go into the clue's evidence
	// as given.
	Contributions map[string]float64
}

// Languages of the local reasoner's clues and reasoning.
const (
	English = "en"
	Chinese = "zh"
)

// Local explains a clip from its measured cues alone, by the rules of
// rules.go: no server, no model besides those that measured the cues.
type Local struct {
	// Language of the clue texts and the reasoning: English (the
	// default) or Chinese. Labels stay the English wheel words.
	Language string
	// Voice, when set, is a voice-emotion classifier whose prediction
	// joins the prosody rules in the voice channel.
	Voice VoiceClassifier
}

var _ Explainer = (*Local)(nil)

// Explain explains in.Cues (see Reason); in.Clip, when set, names the
// clip.
func (l *Local) Explain(ctx context.Context, in Input) (*Explanation, error) {
	if in.Cues != nil && in.Clip != "" && in.Cues.Clip != in.Clip {
		c := *in.Cues
		c.Clip = in.Clip
		in.Cues = &c
	}
	return l.Reason(ctx, in.Cues)
}

// Reason explains measured cues: each channel that was measured gives the
// clues its rules find and scores for the labels; the scores of the
// channels with clues are fused by their weights. A channel that was not
// measured gives no clue and is named in Warnings. ctx is for the voice
// classifier; without one Reason does no I/O.
func (l *Local) Reason(ctx context.Context, c *cues.Cues) (*Explanation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("the local backend explains measured cues: none were given")
	}
	lang, err := language(l.Language)
	if err != nil {
		return nil, err
	}
	e := &Explanation{Clip: c.Clip, Backend: BackendLocal, Model: RulesVersion,
		Emotions: []Emotion{}, OVLabels: []string{}, Clues: []Clue{}, Modalities: []string{}, Warnings: []string{}}
	var model string
	chans := []channel{faceChannel(c, lang), l.voiceChannel(ctx, c, lang, &model), contentChannel(c, lang)}
	if model != "" {
		e.Model += "+" + model
	}
	fused := map[string]float64{}
	var wsum float64
	for _, ch := range chans {
		e.Warnings = append(e.Warnings, ch.warnings...)
		if len(ch.clues) == 0 {
			continue
		}
		wsum += ch.fusionWeight()
	}
	for _, ch := range chans {
		if len(ch.clues) == 0 {
			continue
		}
		e.Clues = append(e.Clues, ch.clues...)
		e.Modalities = append(e.Modalities, ch.aspect)
		for label, v := range normalized(ch.scores) {
			fused[label] += ch.fusionWeight() / wsum * v
		}
	}
	e.Emotions = rank(fused)
	stated := Stated(e.Emotions)
	e.OVLabels = append(e.OVLabels, stated...)
	e.Reasoning = reasoning(chans, stated, lang)
	return e, nil
}

// channel is what one channel's rules found.
type channel struct {
	aspect   string
	clues    []Clue
	scores   map[string]float64 // support per label, not normalised
	warnings []string
	// weight, when not 0, is the channel's weight in the fusion instead
	// of its aspect's channelWeight.
	weight float64
}

// fusionWeight is the channel's weight in the fusion.
func (ch *channel) fusionWeight() float64 {
	if ch.weight != 0 {
		return ch.weight
	}
	return channelWeight[ch.aspect]
}

func (ch *channel) add(cl Clue, w weights, scale float64) {
	ch.clues = append(ch.clues, cl)
	for label, v := range w {
		ch.scores[label] += v * scale
	}
}

func language(s string) (string, error) {
	switch s {
	case "", English:
		return English, nil
	case Chinese:
		return Chinese, nil
	}
	return "", fmt.Errorf("unknown language %q (want %s or %s)", s, English, Chinese)
}

func (p phrase) in(lang string) string {
	if lang == Chinese {
		return p.zh
	}
	return p.en
}

// faceChannel reads the main face's expression timeline.
func faceChannel(c *cues.Cues, lang string) channel {
	ch := channel{aspect: AspectVisual, scores: map[string]float64{}}
	v := c.Visual
	if !v.Present || v.MainTrack == 0 || len(v.Summary) == 0 {
		reason := v.Reason
		if reason == "" {
			reason = "no face was measured"
		}
		ch.warnings = append(ch.warnings, "visual: no facial clue: "+reason)
		return ch
	}
	mean := trackMeans(v)
	// The longest qualifying stretches, told in time order.
	var segs []face.Segment
	for _, s := range v.Summary {
		if s.End-s.Start >= faceMinDur-1e-9 && s.MeanProb >= faceSlight {
			if _, ok := facePhrases[s.Expression]; ok {
				segs = append(segs, s)
			}
		}
	}
	if len(segs) > maxFaceClues {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].End-segs[i].Start > segs[j].End-segs[j].Start })
		segs = segs[:maxFaceClues]
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].Start < segs[j].Start })
	}
	for _, s := range segs {
		ph, threshold, strength := facePhrases[s.Expression].strong, faceStrong, "strong"
		if s.MeanProb < faceStrong {
			ph, threshold, strength = facePhrases[s.Expression].slight, faceSlight, "slight"
		}
		ch.clues = append(ch.clues, Clue{Aspect: AspectVisual, Text: ph.in(lang), Start: round3(s.Start), End: round3(s.End), Evidence: map[string]any{
			"rule":             "face." + s.Expression,
			"strength":         strength,
			"threshold":        threshold,
			"track":            v.MainTrack,
			"expression":       s.Expression,
			"mean_prob":        round3(s.MeanProb),
			"frames":           s.Frames,
			"track_mean_probs": mean,
		}})
	}
	if len(ch.clues) > 0 {
		for expr, p := range mean {
			ch.scores[labelAlias[expr]] += p
		}
	}
	ch.addActions(mainFaceActions(c), lang)
	if len(ch.clues) == 0 {
		ch.warnings = append(ch.warnings, fmt.Sprintf("visual: no facial clue: no expression of the main face reached probability %.1f for %.1f s", faceSlight, faceMinDur))
	}
	return ch
}

// trackMeans returns the expression probabilities averaged over the main
// track's frames, or, for cues that hold only the summary, the segments'
// mean probabilities weighted by their length.
func trackMeans(v cues.Visual) map[string]float64 {
	sum := map[string]float64{}
	n := 0
	for _, f := range v.Faces {
		if f.Track != v.MainTrack {
			continue
		}
		n++
		for k, p := range f.Expressions {
			sum[k] += p
		}
	}
	out := map[string]float64{}
	if n > 0 {
		for k, s := range sum {
			out[k] = round3(s / float64(n))
		}
		return out
	}
	var total float64
	for _, s := range v.Summary {
		d := s.End - s.Start
		sum[s.Expression] += s.MeanProb * d
		total += d
	}
	for k, s := range sum {
		if total > 0 {
			out[k] = round3(s / total)
		}
	}
	return out
}

// voiceChannel reads the voice: the prosody rules' clues, and the
// classifier when there is one, whose prediction then gives the channel's
// scores (see "Voice model" in rules.go). model is set to the
// classifier's name when its prediction counts.
func (l *Local) voiceChannel(ctx context.Context, c *cues.Cues, lang string, model *string) channel {
	ch := channel{aspect: AspectAudio, scores: map[string]float64{}}
	a := c.Audio
	switch {
	case !a.Present || a.Report == nil:
		reason := a.Reason
		if reason == "" {
			reason = "no audio was measured"
		}
		ch.warnings = append(ch.warnings, "audio: no voice clue: "+reason)
		return ch
	case a.F0 == nil:
		ch.warnings = append(ch.warnings, "audio: no voice clue: no voiced speech was measured")
		return ch
	}
	r := a.Report
	for _, rule := range voiceRules {
		h := rule.fire(r)
		if h == nil {
			continue
		}
		ev := map[string]any{"rule": rule.id, "test": rule.test}
		for k, v := range h.evidence {
			ev[k] = v
		}
		ch.add(Clue{Aspect: AspectAudio, Text: rule.phrase.in(lang), Start: round3(h.start), End: round3(h.end), Evidence: ev}, rule.w, 1)
	}
	if l.Voice != nil {
		if name := l.voiceModel(ctx, VoiceInput{Clip: c.Clip, Report: r, Features: c.Audio.Features}, lang, &ch); name != "" && len(ch.clues) > 0 {
			*model = name
		}
	}
	if len(ch.clues) == 0 {
		ch.warnings = append(ch.warnings, "audio: the voice was measured but matched no clue rule")
	}
	return ch
}

// voiceModel puts the classifier's prediction in the voice channel: its
// probabilities become the channel's scores, in place of the prosody
// rules', and its top label is a clue when it is likely enough. It
// returns the classifier's name when the prediction gave scores.
func (l *Local) voiceModel(ctx context.Context, v VoiceInput, lang string, ch *channel) string {
	r := v.Report
	pred, err := l.Voice.ClassifyVoice(ctx, v)
	if err != nil {
		ch.warnings = append(ch.warnings, "audio: voice classifier: "+err.Error())
		return ""
	}
	probs := map[string]float64{}
	var unknown []string
	for name, p := range pred.Probs {
		label, ok := labelAlias[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		probs[label] += p
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		ch.warnings = append(ch.warnings, "audio: voice classifier labels not among the reasoner's, left out: "+strings.Join(unknown, ", "))
	}
	scores := normalized(probs)
	if len(scores) == 0 {
		return ""
	}
	ch.scores = scores
	ranked := rank(scores)
	if len(ranked) == 0 || ranked[0].Score < voiceModelMin {
		return pred.Model
	}
	top := ranked[0].Label
	word := labelWords[top].en
	if lang == Chinese {
		word = labelWords[top].zh
	}
	ev := map[string]any{"rule": voiceModelRule, "model": pred.Model, "probs": roundMap(pred.Probs), "threshold": voiceModelMin}
	if len(pred.Contributions) > 0 {
		ev["contributions"] = roundMap(pred.Contributions)
	}
	text := fmt.Sprintf(voiceModelPhrase.in(lang), word)
	ch.clues = append(ch.clues, Clue{Aspect: AspectAudio, Text: text, Start: round3(r.SpeechStart), End: round3(r.SpeechEnd), Evidence: ev})
	return pred.Model
}

// contentChannel reads the subtitle's emotion words, valence and
// exclamations.
func contentChannel(c *cues.Cues, lang string) channel {
	ch := channel{aspect: AspectContent, scores: map[string]float64{}}
	t := c.Text
	if !t.Present || t.Result == nil {
		reason := t.Reason
		if reason == "" {
			reason = "no subtitle was given or found"
		}
		ch.warnings = append(ch.warnings, "text: the text channel is absent: "+reason)
		return ch
	}
	res := t.Result
	span := func(seg int) (float64, float64, string) {
		if seg >= 0 && seg < len(t.Cues) {
			cue := t.Cues[seg]
			if cue.Start == 0 && cue.End == 0 {
				return 0, c.Duration, cue.Text
			}
			return cue.Start, cue.End, cue.Text
		}
		return 0, c.Duration, t.Subtitle
	}
	bySeg := map[int][]textcue.EmotionWord{}
	var segs []int
	for _, w := range res.EmotionWords {
		if _, ok := bySeg[w.Segment]; !ok {
			segs = append(segs, w.Segment)
		}
		bySeg[w.Segment] = append(bySeg[w.Segment], w)
	}
	sort.Ints(segs)
	for _, seg := range segs {
		words := bySeg[seg]
		start, end, line := span(seg)
		text, scores, list := wordsClue(line, words, res.Language, lang)
		if text == "" {
			continue
		}
		ch.add(Clue{Aspect: AspectContent, Text: text, Start: start, End: end, Evidence: map[string]any{
			"rule": contentWordsRule, "subtitle": line, "words": list, "segment": seg,
		}}, scores, 1)
	}
	start, end := 0.0, c.Duration
	if n := len(t.Cues); n > 0 && !(t.Cues[0].Start == 0 && t.Cues[n-1].End == 0) {
		start, end = t.Cues[0].Start, t.Cues[n-1].End
	}
	fired := func(r contentRule, extra map[string]any) {
		ev := map[string]any{"rule": r.id, "valence": round3(res.Valence), "valence_method": res.ValenceMethod}
		for k, v := range extra {
			ev[k] = v
		}
		ch.add(Clue{Aspect: AspectContent, Text: r.phrase.in(lang), Start: start, End: end, Evidence: ev}, r.w, r.scale)
	}
	switch {
	case res.Valence >= clearValence:
		fired(contentPositive, map[string]any{"threshold": clearValence})
	case res.Valence <= -clearValence:
		fired(contentNegative, map[string]any{"threshold": -clearValence})
	}
	if res.Exclamations > 0 {
		fired(contentExclaim, map[string]any{"exclamations": res.Exclamations, "sentences": res.Sentences})
	}
	if len(res.EmotionWords) == 0 && res.Exclamations == 0 && math.Abs(res.Valence) < plainValence {
		// No other content rule fires on such words; they take part in
		// the fusion weakly (plainChannelWeight).
		fired(contentPlain, map[string]any{"threshold": plainValence, "subtitle": t.Subtitle})
		ch.weight = plainChannelWeight
	}
	if len(ch.clues) == 0 {
		ch.warnings = append(ch.warnings, "text: the subtitle matched no clue rule")
	}
	return ch
}

// wordsClue words the emotion words of one subtitle line: the line quoted,
// then what each word expresses or that it is negated. It returns the
// text, the scores the words give and the words for the evidence.
func wordsClue(line string, words []textcue.EmotionWord, textLang, lang string) (string, map[string]float64, []map[string]any) {
	scores := map[string]float64{}
	var list []map[string]any
	byLabel := map[string][]string{}
	var order []string
	var negated []string
	for _, w := range words {
		list = append(list, map[string]any{"word": w.Word, "lemma": w.Lemma, "category": w.Category, "negated": w.Negated})
		label := labelAlias[w.Category]
		if w.Negated {
			negated = append(negated, w.Word)
			if label == "happy" {
				scores["sad"] += negatedHappyToSad
			}
			continue
		}
		if label == "" {
			continue
		}
		if _, ok := byLabel[label]; !ok {
			order = append(order, label)
		}
		byLabel[label] = append(byLabel[label], w.Word)
		scores[label] += wordWeight
	}
	var parts []string
	for _, label := range order {
		noun := labelWords[label].noun
		if lang == Chinese {
			noun = labelWords[label].zh
		}
		ws := byLabel[label]
		if len(ws) == 1 {
			parts = append(parts, fmt.Sprintf(frameExpresses.in(lang), ws[0], noun))
			continue
		}
		quoted := make([]string, len(ws))
		for i, w := range ws {
			if lang == Chinese {
				quoted[i] = "“" + w + "”"
			} else {
				quoted[i] = `"` + w + `"`
			}
		}
		parts = append(parts, fmt.Sprintf(frameExpress.in(lang), joinList(quoted, lang), noun))
	}
	for _, w := range negated {
		parts = append(parts, fmt.Sprintf(frameNegated.in(lang), w))
	}
	if len(parts) == 0 {
		return "", nil, nil
	}
	sep := " and "
	if lang == Chinese {
		sep = "，"
	}
	text := fmt.Sprintf(frameSaid.in(lang), quote(line, textLang)) + frameInWhich.in(lang) + strings.Join(parts, sep)
	return text, scores, list
}

// quote shortens a subtitle line for quoting: at most quoteWords words
// of English, quoteRunes characters of Chinese.
func quote(line, textLang string) string {
	line = strings.Join(strings.Fields(line), " ")
	if textLang == Chinese {
		if utf8.RuneCountInString(line) > quoteRunes {
			return string([]rune(line)[:quoteRunes]) + "…"
		}
		return line
	}
	if f := strings.Fields(line); len(f) > quoteWords {
		return strings.Join(f[:quoteWords], " ") + "…"
	}
	return line
}

// normalized returns scores scaled to sum to 1 (nil when they sum to 0).
func normalized(scores map[string]float64) map[string]float64 {
	var sum float64
	for _, v := range scores {
		sum += v
	}
	if sum <= 0 {
		return nil
	}
	out := make(map[string]float64, len(scores))
	for k, v := range scores {
		out[k] = v / sum
	}
	return out
}

// rank returns the labels scoring at least minScore, best first; ties go
// in the order of Labels.
func rank(scores map[string]float64) []Emotion {
	out := []Emotion{}
	for _, label := range Labels {
		if v := scores[label]; v >= minScore {
			out = append(out, Emotion{Label: label, Score: round3(v)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// Stated returns the labels a reasoning states from ranked emotions: the
// top one and the others scoring at least statedShare of it, at most
// maxStated.
func Stated(ranked []Emotion) []string {
	var out []string
	for _, e := range ranked {
		if len(out) == maxStated || len(out) > 0 && e.Score < statedShare*ranked[0].Score {
			break
		}
		out = append(out, e.Label)
	}
	return out
}

// reasoning writes the EMER paragraph: one sentence per channel with
// clues (visual, audio, content), then the inferred state.
func reasoning(chans []channel, stated []string, lang string) string {
	var sentences []string
	for _, ch := range chans {
		if len(ch.clues) == 0 {
			continue
		}
		texts := make([]string, len(ch.clues))
		for i, cl := range ch.clues {
			texts[i] = cl.Text
		}
		var s string
		if ch.aspect == AspectVisual {
			s = strings.Join(texts, frameThen.in(lang))
		} else {
			s = joinClauses(texts, lang)
		}
		sentences = append(sentences, s)
	}
	if len(sentences) == 0 || len(stated) == 0 {
		return frameNothing.in(lang)
	}
	var b strings.Builder
	b.WriteString(frameOpen.in(lang))
	end := ". "
	if lang == Chinese {
		end = "。"
	}
	for i, s := range sentences {
		if i > 0 && lang == English {
			s = capitalize(s)
		}
		b.WriteString(s)
		b.WriteString(end)
	}
	names := make([]string, len(stated))
	for i, l := range stated {
		names[i] = labelWords[l].en
		if lang == Chinese {
			names[i] = labelWords[l].zh
		}
	}
	b.WriteString(fmt.Sprintf(frameInferred.in(lang), joinList(names, lang)))
	return b.String()
}

// joinList joins words: "a", "a and b", "a, b and c"; "甲、乙".
func joinList(words []string, lang string) string {
	if lang == Chinese {
		return strings.Join(words, "、")
	}
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// joinClauses joins clauses that may hold commas and "and" themselves:
// "a", "a, and b", "a, b, and c"; Chinese with "，".
func joinClauses(cl []string, lang string) string {
	if lang == Chinese {
		return strings.Join(cl, "，")
	}
	if len(cl) == 1 {
		return cl[0]
	}
	return strings.Join(cl[:len(cl)-1], ", ") + ", and " + cl[len(cl)-1]
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func roundMap(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = round3(v)
	}
	return out
}
