package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"emer/internal/explain"
	"emer/internal/vocal"
)

// classScore is one portrayed class's figures.
type classScore struct {
	Class     string
	Clips     int // portrayed
	Correct   int
	Predicted int // clips given this class, rightly or not
	Recall    float64
	Precision float64
}

// scores are the figures of one reading of the outcomes.
type scores struct {
	// Classes are the portrayed classes, the confusion's rows; Columns
	// are Classes and then every other answer given (noEmotion, say).
	Classes   []string
	Columns   []string
	Confusion [][]int // [portrayed][answered]
	PerClass  []classScore
	Clips     int
	Correct   int
	Accuracy  float64
	// Balanced is the mean recall over the classes that were portrayed.
	Balanced float64
}

// score tallies (portrayed, answered) pairs over the portrayed classes.
func score(classes []string, pairs [][2]string) scores {
	s := scores{Classes: slices.Clone(classes), Columns: slices.Clone(classes)}
	for _, p := range pairs {
		if !slices.Contains(s.Columns, p[1]) {
			s.Columns = append(s.Columns, p[1])
		}
	}
	// Answers outside the classes go last, in a fixed order.
	slices.Sort(s.Columns[len(classes):])
	s.Confusion = make([][]int, len(classes))
	for i := range s.Confusion {
		s.Confusion[i] = make([]int, len(s.Columns))
	}
	for _, p := range pairs {
		i := slices.Index(classes, p[0])
		if i < 0 {
			panic(fmt.Sprintf("portrayed class %q is not among %v", p[0], classes))
		}
		s.Confusion[i][slices.Index(s.Columns, p[1])]++
	}
	var recalls float64
	var portrayed int
	for i, c := range classes {
		cs := classScore{Class: c, Correct: s.Confusion[i][i]}
		for j := range s.Columns {
			cs.Clips += s.Confusion[i][j]
		}
		for r := range classes {
			cs.Predicted += s.Confusion[r][i]
		}
		if cs.Clips > 0 {
			cs.Recall = float64(cs.Correct) / float64(cs.Clips)
			recalls += cs.Recall
			portrayed++
		}
		if cs.Predicted > 0 {
			cs.Precision = float64(cs.Correct) / float64(cs.Predicted)
		}
		s.PerClass = append(s.PerClass, cs)
		s.Clips += cs.Clips
		s.Correct += cs.Correct
	}
	if s.Clips > 0 {
		s.Accuracy = float64(s.Correct) / float64(s.Clips)
	}
	if portrayed > 0 {
		s.Balanced = recalls / float64(portrayed)
	}
	return s
}

// readings returns the four readings the report prints: the reasoner and
// the voice model alone, with neutral and calm apart and as one.
func (r *result) readings() (reasoner, voice, reasonerMerged, voiceMerged scores) {
	var rp, vp, rm, vm [][2]string
	for _, o := range r.Outcomes {
		rp = append(rp, [2]string{o.Truth, o.Reasoner})
		vp = append(vp, [2]string{o.Truth, o.Voice})
		rm = append(rm, [2]string{merged(o.Truth), merged(o.Reasoner)})
		vm = append(vm, [2]string{merged(o.Truth), merged(o.Voice)})
	}
	all := classes()
	var one []string
	for _, c := range all {
		if m := merged(c); !slices.Contains(one, m) {
			one = append(one, m)
		}
	}
	return score(all, rp), score(all, vp), score(one, rm), score(one, vm)
}

// write prints the figures of r on the corpus named data.
func (r *result) write(w io.Writer, data string) error {
	reasoner, voice, reasonerMerged, voiceMerged := r.readings()
	// [no voice clue, prosody clues only, the model's clue] clips,
	// reasoner right, voice model right, the two agreeing
	var split [3]struct{ clips, reasoner, voice, agree int }
	for _, o := range r.Outcomes {
		k := 0
		switch {
		case o.ModelClue:
			k = 2
		case o.Voiced:
			k = 1
		}
		split[k].clips++
		if o.Reasoner == o.Truth {
			split[k].reasoner++
		}
		if o.Voice == o.Truth {
			split[k].voice++
		}
		if o.Reasoner == o.Voice {
			split[k].agree++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d clips, %d actors, %d voice features; leave-one-actor-out, one fold per actor:\n", data, len(r.Outcomes), len(r.Folds), r.Features)
	fmt.Fprintf(&b, "each fold's voice model fitted on the other actors as the generator fits it (standardization, gender stage\n")
	fmt.Fprintf(&b, "and penalty, by inner leave-one-actor-out, on them only); the held-out actor's clips explained from their\n")
	fmt.Fprintf(&b, "measured cues by the local reasoner (%s) with that model.\n", explain.RulesVersion)
	var pairs []string
	for _, e := range vocal.Emotions {
		pairs = append(pairs, fmt.Sprintf("%s -> %s", e, labelOf[e]))
	}
	fmt.Fprintf(&b, "portrayed emotions read as the reasoner's labels: %s.\n", strings.Join(pairs, ", "))
	fmt.Fprintf(&b, "The reasoner's answer is its top emotion, %q when it ranks none. ", noEmotion)
	switch r.Subtitled {
	case 0:
		fmt.Fprintf(&b, "The clips have no subtitles.\n")
	case len(r.Outcomes):
		fmt.Fprintf(&b, "Each clip has its sentence as its subtitle.\n")
	default:
		fmt.Fprintf(&b, "%d of the clips have subtitles.\n", r.Subtitled)
	}
	sections := []struct {
		title string
		s     scores
	}{
		{"local reasoner, neutral and calm apart", reasoner},
		{"local reasoner, neutral and calm as one class", reasonerMerged},
		{"voice model alone, neutral and calm apart", voice},
		{"voice model alone, neutral and calm as one class", voiceMerged},
	}
	for _, sec := range sections {
		fmt.Fprintf(&b, "\n== %s ==\n\n", sec.title)
		if err := sec.s.write(&b); err != nil {
			return err
		}
	}
	fmt.Fprintf(&b, "\nclips by the voice clues of the reasoner: the voice channel, scored by the model, takes part with a clue,\n")
	fmt.Fprintf(&b, "the model's own (its top probability high enough to be said) or a prosody rule's\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "voice clues\tclips\treasoner correct\tmodel correct\tsame top\t\n")
	for k, name := range []string{"none", "prosody only", "the model's"} {
		c := split[k]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", name, c.clips, c.reasoner, c.voice, c.agree)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nfolds (held-out actor: reasoner correct, voice model correct / clips, penalty)\n")
	for _, f := range r.Folds {
		fmt.Fprintf(&b, "  %s: %d, %d / %d, lambda %g\n", f.Actor, f.ReasonerCorrect, f.VoiceCorrect, f.Clips, f.Lambda)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// write prints the per-class table, the totals and the confusion matrix.
func (s scores) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "class\tclips\tcorrect\trecall\tpredicted\tprecision\t\n")
	for _, c := range s.PerClass {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%d\t%.3f\t\n", c.Class, c.Clips, c.Correct, c.Recall, c.Predicted, c.Precision)
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%.3f\t\t\t\n", s.Clips, s.Correct, s.Accuracy)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\naccuracy %.4f (%d/%d), balanced accuracy %.4f, chance %.3f\n",
		s.Accuracy, s.Correct, s.Clips, s.Balanced, 1/float64(len(s.Classes)))
	fmt.Fprintf(w, "\nconfusion (rows: portrayed, columns: answered)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	var row strings.Builder
	row.WriteString("\t")
	for _, c := range s.Columns {
		row.WriteString(abbrev(c) + "\t")
	}
	fmt.Fprintln(tw, row.String())
	for i, c := range s.Classes {
		row.Reset()
		row.WriteString(c + "\t")
		for j := range s.Columns {
			fmt.Fprintf(&row, "%d\t", s.Confusion[i][j])
		}
		fmt.Fprintln(tw, row.String())
	}
	return tw.Flush()
}

// abbrev shortens a class for a column head: three letters, "n+c" for
// neutral and calm as one, noEmotion as it is.
func abbrev(c string) string {
	switch {
	case c == neutralCalm:
		return "n+c"
	case len(c) > 3 && c != noEmotion:
		return c[:3]
	}
	return c
}
