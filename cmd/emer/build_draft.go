package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"emer/internal/cues"
	"emer/internal/explain"
	"emer/internal/infer"
	"emer/internal/vocal"
)

func init() { registerBuild(newBuildDraftCmd) }

// DraftAnnotator is the annotator column of the drafts.
const DraftAnnotator = "emer-draft"

// buildDraftOptions are the inputs of runBuildDraft.
type buildDraftOptions struct {
	Dataset string // EMER CSV: names and subtitles
	Media   string // folder of the clips' media
	Out     string // drafts CSV
	Lang    string // en or zh
	JSON    bool
	Stdout  io.Writer
	Stderr  io.Writer
}

func newBuildDraftCmd(g *globalOptions) *cobra.Command {
	var opts buildDraftOptions
	cmd := &cobra.Command{
		Use:   "draft --dataset CSV --media DIR --out FILE.csv [--lang en|zh] [--json]",
		Short: "Draft each clip's clues per aspect from its measured cues, for annotators to correct",
		Long: `draft measures each clip of an EMER dataset (the face's expressions, facial
actions and head movements, the voice's prosody, the subtitle's emotion
words) and writes the clues the local reasoner reads in them, per clip and
aspect, as drafts for annotators to correct. Clips are the names of the
dataset CSV, with their subtitles (chisubs first with --lang zh); each
clip's media is found in --media by name with any common video or audio
extension.

The drafts are annotation records, the layout emer build cost reads
(--drafts): a CSV with the columns clip, annotator ("emer-draft"), aspect
(visual, audio or content: context is not measured, so it gets no draft),
text and lang, and one more column, evidence, that emer build cost
ignores. The text is one sentence per clue; evidence is a JSON array with
one object per sentence, in order: the sentence, the rule that wrote it,
its time range and the measured values it rests on (an expression's
probability, a change in dB or per cent against the speaker's own level,
the subtitle's emotion words and valence). So every sentence cites its
measurement, and the text annotators edit holds none of it. An aspect
with no clue gets no record.

A clip whose media is missing or cannot be read is reported and skipped;
the others are drafted, and the command then exits 1.`,
		Example: `  emer build draft --dataset ../shared/data/emer-v1/gt-eng.csv --media clips/ --out drafts.csv
  emer build draft --dataset gt-chi.csv --media clips/ --out drafts-zh.csv --lang zh --json
  emer build cost --drafts drafts.csv --final corrected.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			return runBuildDraft(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dataset, "dataset", "", "EMER dataset CSV (names and subtitles)")
	f.StringVar(&opts.Media, "media", "", "folder of the clips' media files")
	f.StringVar(&opts.Out, "out", "", "drafts CSV to write")
	f.StringVar(&opts.Lang, "lang", explain.English, "language of the drafts: en or zh")
	f.BoolVar(&opts.JSON, "json", false, "write a JSON summary instead of the text one")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("media")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// draftEvidence is one sentence's entry in the evidence column.
type draftEvidence struct {
	Sentence string         `json:"sentence"`
	Start    float64        `json:"start_s"`
	End      float64        `json:"end_s"`
	Evidence map[string]any `json:"evidence"`
}

// draftRecord is one row of the drafts.
type draftRecord struct {
	Clip, Aspect, Text string
	Evidence           []draftEvidence
}

// draftFailure is a clip that got no drafts.
type draftFailure struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// draftSummary is what --json prints.
type draftSummary struct {
	Out      string         `json:"out"`
	Clips    int            `json:"clips"`
	Drafted  int            `json:"drafted"`
	Records  int            `json:"records"`
	ByAspect map[string]int `json:"by_aspect"`
	Failed   []draftFailure `json:"failed"`
}

func runBuildDraft(ctx context.Context, opts buildDraftOptions) error {
	var probs []string
	for _, f := range []struct{ name, v string }{{"--dataset", opts.Dataset}, {"--media", opts.Media}, {"--out", opts.Out}} {
		if f.v == "" {
			probs = append(probs, f.name+" is required")
		}
	}
	if opts.Lang != explain.English && opts.Lang != explain.Chinese {
		probs = append(probs, fmt.Sprintf("--lang %q: want en or zh", opts.Lang))
	}
	if opts.Out != "" && !strings.EqualFold(filepath.Ext(opts.Out), ".csv") {
		probs = append(probs, fmt.Sprintf("--out %s: drafts are written as .csv (the evidence column has no place in the JSONL records emer build cost reads)", opts.Out))
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	if st, err := os.Stat(opts.Media); err != nil {
		return fmt.Errorf("--media: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("--media %s is not a folder", opts.Media)
	}
	clips, missing, err := infer.ReadDataset(opts.Dataset, opts.Media, opts.Lang)
	if err != nil {
		return err
	}
	ext, err := cues.NewExtractor(cues.Config{VoiceFeatures: true})
	if err != nil {
		return err
	}
	p := &infer.Pipeline{Cues: ext, Explainer: &explain.Local{Language: opts.Lang, Voice: infer.VoiceModel{Model: vocal.Default()}}}

	sum := draftSummary{Out: opts.Out, Clips: len(clips) + len(missing), ByAspect: map[string]int{}, Failed: []draftFailure{}}
	for _, name := range sortedErrKeys(missing) {
		sum.Failed = append(sum.Failed, draftFailure{name, missing[name].Error()})
	}
	var recs []draftRecord
	for _, c := range clips {
		e, err := p.Explain(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sum.Failed = append(sum.Failed, draftFailure{c.Name, err.Error()})
			fmt.Fprintf(opts.Stderr, "emer: %s: %v\n", c.Name, err)
			continue
		}
		rs := draftRecords(c.Name, e.Clues, opts.Lang)
		recs = append(recs, rs...)
		for _, r := range rs {
			sum.ByAspect[r.Aspect]++
		}
		sum.Drafted++
	}
	sum.Records = len(recs)
	data, err := encodeDrafts(recs, opts.Lang)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(opts.Out, data); err != nil {
		return err
	}
	for _, name := range sortedErrKeys(missing) {
		fmt.Fprintf(opts.Stderr, "emer: %s: %v\n", name, missing[name])
	}
	if opts.JSON {
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.Stdout, "%s\n", b)
	} else {
		var parts []string
		for _, a := range []string{explain.AspectVisual, explain.AspectAudio, explain.AspectContent} {
			parts = append(parts, fmt.Sprintf("%d %s", sum.ByAspect[a], a))
		}
		fmt.Fprintf(opts.Stdout, "%d clips: %d drafted, %d failed; %d records (%s) written to %s\n",
			sum.Clips, sum.Drafted, len(sum.Failed), sum.Records, strings.Join(parts, ", "), opts.Out)
	}
	if n := len(sum.Failed); n > 0 {
		return fmt.Errorf("%d of %d clips could not be drafted: %w", n, sum.Clips, errPartial)
	}
	return nil
}

// draftRecords turns a clip's clues into one record per aspect that has
// any, in EMER's order of aspects: a sentence per clue, in the order the
// reasoner gives them.
func draftRecords(clip string, clues []explain.Clue, lang string) []draftRecord {
	var out []draftRecord
	for _, aspect := range []string{explain.AspectVisual, explain.AspectAudio, explain.AspectContent, explain.AspectContext} {
		r := draftRecord{Clip: clip, Aspect: aspect}
		var sentences []string
		for _, cl := range clues {
			if cl.Aspect != aspect {
				continue
			}
			s := sentence(cl.Text, lang)
			sentences = append(sentences, s)
			ev := cl.Evidence
			if ev == nil {
				ev = map[string]any{}
			}
			r.Evidence = append(r.Evidence, draftEvidence{Sentence: s, Start: cl.Start, End: cl.End, Evidence: ev})
		}
		if len(sentences) == 0 {
			continue
		}
		sep := " "
		if lang == explain.Chinese {
			sep = ""
		}
		r.Text = strings.Join(sentences, sep)
		out = append(out, r)
	}
	return out
}

// sentence makes a clue text a sentence: capitalised and ended with a
// full stop in English, ended with 。 in Chinese.
func sentence(text, lang string) string {
	text = strings.TrimSpace(text)
	if lang == explain.Chinese {
		if !strings.HasSuffix(text, "。") {
			text += "。"
		}
		return text
	}
	r, n := utf8.DecodeRuneInString(text)
	text = string(unicode.ToUpper(r)) + text[n:]
	if !strings.HasSuffix(text, ".") {
		text += "."
	}
	return text
}

// draftColumns are the drafts' header.
var draftColumns = []string{"clip", "annotator", "aspect", "text", "lang", "evidence"}

// encodeDrafts writes the records as CSV, the evidence as compact JSON.
func encodeDrafts(recs []draftRecord, lang string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(draftColumns); err != nil {
		return nil, err
	}
	for _, r := range recs {
		ev, err := json.Marshal(r.Evidence)
		if err != nil {
			return nil, fmt.Errorf("evidence of %s %s: %w", r.Clip, r.Aspect, err)
		}
		if err := w.Write([]string{r.Clip, DraftAnnotator, r.Aspect, r.Text, lang, string(ev)}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func sortedErrKeys(m map[string]error) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
