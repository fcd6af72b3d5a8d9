package explain

import (
	"fmt"
	"sort"
	"strings"

	"emer/internal/cues"
	"emer/internal/face"
)

// CueSummary writes the measured cues of a clip as plain English lines, one
// per channel, for a model to read (the llm backend's cues mode): the main
// face's expression timeline and mean probabilities, the voice's prosody
// and its changes against the speaker's own level, and the subtitle's
// emotion words and valence. A channel that was not measured says so and
// why. It states measurements only, not the local reasoner's conclusions.
func CueSummary(c *cues.Cues) string {
	return strings.Join([]string{faceSummary(c), voiceSummary(c), textSummary(c)}, "\n")
}

// hasVoice reports whether the cues hold a measured voice, as CueSummary
// tells it.
func hasVoice(c *cues.Cues) bool { return c != nil && c.Audio.Present && c.Audio.Report != nil }

func faceSummary(c *cues.Cues) string {
	v := c.Visual
	if !v.Present || v.MainTrack == 0 || len(v.Summary) == 0 {
		reason := v.Reason
		if reason == "" {
			reason = "no face was measured"
		}
		return "Face: not measured (" + reason + ")."
	}
	var segs []string
	for _, s := range v.Summary {
		segs = append(segs, segmentText(s))
	}
	means := trackMeans(v)
	names := make([]string, 0, len(means))
	for k := range means {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if means[names[i]] != means[names[j]] {
			return means[names[i]] > means[names[j]]
		}
		return names[i] < names[j]
	})
	var probs []string
	for _, k := range names {
		probs = append(probs, fmt.Sprintf("%s %.2f", k, means[k]))
	}
	frames := 0
	for _, f := range v.Faces {
		if f.Track == v.MainTrack {
			frames++
		}
	}
	head := fmt.Sprintf("Face (main face, track %d", v.MainTrack)
	if frames > 0 {
		head += fmt.Sprintf(", %d frames", frames)
	}
	return fmt.Sprintf("%s): dominant expression %s; mean expression probabilities %s.", head, strings.Join(segs, ", then "), strings.Join(probs, ", "))
}

func segmentText(s face.Segment) string {
	return fmt.Sprintf("%s %.1f-%.1f s (mean probability %.2f)", s.Expression, s.Start, s.End, s.MeanProb)
}

func voiceSummary(c *cues.Cues) string {
	a := c.Audio
	if !hasVoice(c) {
		reason := a.Reason
		if reason == "" {
			reason = "no audio was measured"
		}
		return "Voice: not measured (" + reason + ")."
	}
	r := a.Report
	if r.F0 == nil {
		return fmt.Sprintf("Voice: %.1f s of audio without voiced speech; intensity %.1f dB.", r.Duration, r.Intensity.Mean)
	}
	parts := []string{
		fmt.Sprintf("mean pitch %.0f Hz (sd %.0f Hz, range %.0f-%.0f Hz)", r.F0.Mean, r.F0.SD, r.F0.Min, r.F0.Max),
		fmt.Sprintf("intensity %.1f dB", r.Intensity.Mean),
	}
	if r.JitterLocal != nil {
		parts = append(parts, fmt.Sprintf("jitter %.1f %%", *r.JitterLocal*100))
	}
	if r.ShimmerLocal != nil {
		parts = append(parts, fmt.Sprintf("shimmer %.1f %%", *r.ShimmerLocal*100))
	}
	parts = append(parts, fmt.Sprintf("%.1f voiced segments per second over %.1f-%.1f s", r.SpeechRate, r.SpeechStart, r.SpeechEnd))
	s := "Voice: " + strings.Join(parts, ", ")
	if len(r.Events) > 0 {
		var evs []string
		for _, e := range r.Events {
			evs = append(evs, fmt.Sprintf("%s (%.1f-%.1f s)", e.Text, e.Start, e.End))
		}
		s += "; against the speaker's own level: " + strings.Join(evs, "; ")
	}
	return s + "."
}

func textSummary(c *cues.Cues) string {
	t := c.Text
	if !t.Present || t.Result == nil {
		reason := t.Reason
		if reason == "" {
			reason = "no subtitle was given or found"
		}
		return "Subtitle: not measured (" + reason + ")."
	}
	res := t.Result
	var words []string
	for _, w := range res.EmotionWords {
		s := fmt.Sprintf("%q (%s", w.Word, w.Category)
		if w.Negated {
			s += ", negated"
		}
		if w.Segment >= 0 && w.Segment < len(t.Cues) {
			if cue := t.Cues[w.Segment]; cue.Start != 0 || cue.End != 0 {
				s += fmt.Sprintf(", %.1f-%.1f s", cue.Start, cue.End)
			}
		}
		words = append(words, s+")")
	}
	list := "none"
	if len(words) > 0 {
		list = strings.Join(words, ", ")
	}
	return fmt.Sprintf("Subtitle (%s): emotion words %s; valence %+.2f (%s); %d sentences, %d exclamations, %d questions.",
		res.Language, list, res.Valence, res.ValenceMethod, res.Sentences, res.Exclamations, res.Questions)
}
