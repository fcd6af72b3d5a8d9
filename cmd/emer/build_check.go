package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/cues"
	"emer/internal/dataset"
	"emer/internal/grounding"
	"emer/internal/infer"
	"emer/internal/table"
)

func init() { registerBuild(newBuildCheckCmd) }

// buildCheckOptions are the inputs of runBuildCheck.
type buildCheckOptions struct {
	Pred    string // CSV of descriptions: names and a description column
	Column  string // description column; "" picks one of dataset.TextColumns
	Media   string // folder of the clips' media; "" measures nothing
	Dataset string // EMER CSV giving the clips' subtitles
	JSON    bool
	Verbose bool
	Stdout  io.Writer
	Stderr  io.Writer
}

func newBuildCheckCmd(g *globalOptions) *cobra.Command {
	var opts buildCheckOptions
	cmd := &cobra.Command{
		Use:   "check --pred FILE [--media DIR [--dataset CSV]] [--column NAME] [--json] [--verbose]",
		Short: "Check each claim of EMER descriptions against the clips' measured cues",
		Long: `check reads EMER descriptions, English or Chinese, from a CSV (a names or name
column and a description column: reasons, chi_reasons, english or chinese,
or --column), whoever wrote them: annotators, a summarizing model, a
baseline's predictions. It cuts each into claims (sentences, then clauses),
gives each claim its aspect, and checks the claims about the face, the
voice and the words against what is measured in the clip:

  visual      the face and body: expressions ("smiled", "frowned", "stared
              with wide eyes"), facial actions and head movements ("nodded",
              "lowered his head"); hands and posture are not measured
  audio       the voice and the sound: loudness against the speaker's own
              level and the recording level ("spoke loudly"), pitch, speech
              rate, trembling, pauses, background music (held tones)
  content     the words: quoted phrases against the subtitle, questions,
              exclamations, positive or negative words
  context     the scene, the people, the story: never measured
  inference   the emotion the description concludes: not a cue

Each claim is supported, contradicted or unverifiable, with its evidence:
the rule, its test and the measured values (a negated claim, "did not
smile", reverses the verdict). The rules, English and Chinese, with their
thresholds, are in internal/grounding/rules.go.

The grounded-claim rate is supported / (supported + contradicted): the
share of the claims the measurements could decide that they bear out; it
is n/a (null in JSON) when none could be decided. Counts and rate are
given per clip, per aspect and for the file.

Clips are measured when --media is given: each found there by name with
any common video or audio extension, with its subtitle from --dataset (an
EMER CSV with names and subtitles; chisubs first for Chinese descriptions)
or else from a sidecar file or a text track. Without --media every claim
is unverifiable. A clip whose media is missing or cannot be read is
reported, its claims are unverifiable, and the command exits 1.

--json writes {"clips":[{"name","claims":[{"text","aspect","verdict",
"evidence"}]}],"totals":{"claims","supported","contradicted",
"unverifiable","grounded_rate"}}.`,
		Example: `  emer build check --pred ../shared/data/emer-v1/predictions-zh/valley.csv
  emer build check --pred gt-eng.csv --media clips/ --dataset gt-eng.csv --json > check.json
  emer build check --pred drafts-final.csv --column reasons --media clips/ --verbose`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			return runBuildCheck(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Pred, "pred", "", "CSV of descriptions (names and reasons, chi_reasons, english or chinese)")
	f.StringVar(&opts.Column, "column", "", "description column (default: the first of "+strings.Join(dataset.TextColumns, ", ")+")")
	f.StringVar(&opts.Media, "media", "", "folder of the clips' media files; without it nothing is measured")
	f.StringVar(&opts.Dataset, "dataset", "", "EMER CSV giving the clips' subtitles (needs --media)")
	f.BoolVar(&opts.JSON, "json", false, "write one JSON object")
	f.BoolVar(&opts.Verbose, "verbose", false, "list every claim with its verdict")
	_ = cmd.MarkFlagRequired("pred")
	return cmd
}

// buildCheckJSON is what --json writes.
type buildCheckJSON struct {
	Clips  []buildCheckClip `json:"clips"`
	Totals grounding.Totals `json:"totals"`
}

type buildCheckClip struct {
	Name   string            `json:"name"`
	Claims []grounding.Claim `json:"claims"`
}

func runBuildCheck(ctx context.Context, opts buildCheckOptions) error {
	var probs []string
	if opts.Pred == "" {
		probs = append(probs, "--pred is required")
	}
	if opts.Dataset != "" && opts.Media == "" {
		probs = append(probs, "--dataset gives the subtitles of the clips measured in --media, which is missing")
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	t, err := table.ReadFile(opts.Pred)
	if err != nil {
		return err
	}
	column := opts.Column
	if column == "" {
		if column, err = t.RequireOneOf(dataset.TextColumns...); err != nil {
			return err
		}
	} else if err := t.Require(column); err != nil {
		return err
	}
	lang := "en"
	if column == "chi_reasons" || column == "chinese" {
		lang = "zh"
	}

	measure := func(context.Context, string) (*grounding.Measures, error) {
		return &grounding.Measures{Reason: "no --media given: nothing was measured"}, nil
	}
	if opts.Media != "" {
		if measure, err = newClipMeasurer(opts, lang); err != nil {
			return err
		}
	}

	out := buildCheckJSON{Clips: []buildCheckClip{}}
	var failed []string
	for _, row := range t.Rows {
		name := row.Name()
		m, err := measure(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed = append(failed, name)
			fmt.Fprintf(opts.Stderr, "emer: %s: %v\n", name, err)
			m = &grounding.Measures{Reason: "the clip could not be measured: " + err.Error()}
		}
		claims := grounding.Check(row.Get(column), m)
		out.Clips = append(out.Clips, buildCheckClip{Name: name, Claims: claims})
		out.Totals.Add(grounding.Count(claims))
	}
	if opts.JSON {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(opts.Stdout, "%s\n", b); err != nil {
			return err
		}
	} else if err := writeCheckText(opts.Stdout, opts, column, out); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d clips could not be measured (%s): %w", len(failed), len(t.Rows), table.ListNames(failed, 5), errPartial)
	}
	return nil
}

// newClipMeasurer returns what measures a clip by name: its media found
// in opts.Media, its subtitle from opts.Dataset, the cues and the sound
// measured with one extractor.
func newClipMeasurer(opts buildCheckOptions, lang string) (func(context.Context, string) (*grounding.Measures, error), error) {
	if st, err := os.Stat(opts.Media); err != nil {
		return nil, fmt.Errorf("--media: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("--media %s is not a folder", opts.Media)
	}
	subs := map[string]string{}
	if opts.Dataset != "" {
		clips, _, err := infer.ReadDataset(opts.Dataset, opts.Media, lang)
		if err != nil {
			return nil, err
		}
		for _, c := range clips {
			subs[c.Name] = c.Subtitle
		}
	}
	ext, err := cues.NewExtractor(cues.Config{})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, name string) (*grounding.Measures, error) {
		path, err := infer.FindMedia(opts.Media, name)
		if err != nil {
			return nil, err
		}
		// The sound scene is measured from the audio the cues decoded, with
		// their pitch track.
		c, err := ext.Analyze(ctx, path, cues.ClipOptions{Subtitle: subs[name], KeepAudio: true})
		if err != nil {
			return nil, err
		}
		m := &grounding.Measures{Cues: c}
		if c.Audio.Present {
			s := grounding.MeasureSceneTrack(*c.Audio.Samples, c.Audio.Pitch)
			m.Scene = &s
			c.Audio.Samples = nil
		}
		return m, nil
	}, nil
}

// writeCheckText writes the check for people: a line per clip, the
// claims by aspect, the totals and the rate.
func writeCheckText(w io.Writer, opts buildCheckOptions, column string, out buildCheckJSON) error {
	var b strings.Builder
	measured := "measured in " + opts.Media
	if opts.Media == "" {
		measured = "no --media: nothing measured, every claim unverifiable"
	}
	fmt.Fprintf(&b, "%s (%s): %d clips, %d claims; %s\n\n", opts.Pred, column, len(out.Clips), out.Totals.Claims, measured)
	row := func(name string, t grounding.Totals) {
		fmt.Fprintf(&b, "%-24s %7d %10d %13d %13d %9s\n", name, t.Claims, t.Supported, t.Contradicted, t.Unverifiable, rateText(t.GroundedRate))
	}
	header := func(first string) {
		fmt.Fprintf(&b, "%-24s %7s %10s %13s %13s %9s\n", first, "claims", "supported", "contradicted", "unverifiable", "grounded")
	}
	header("clip")
	byAspect := map[string]*grounding.Totals{}
	var extra []string
	for _, c := range out.Clips {
		row(c.Name, grounding.Count(c.Claims))
		for _, cl := range c.Claims {
			if byAspect[cl.Aspect] == nil {
				byAspect[cl.Aspect] = &grounding.Totals{}
				if !slices.Contains(grounding.Aspects, cl.Aspect) {
					extra = append(extra, cl.Aspect)
				}
			}
			byAspect[cl.Aspect].Add(grounding.Count([]grounding.Claim{cl}))
		}
		if opts.Verbose {
			for _, cl := range c.Claims {
				rule, _ := cl.Evidence["rule"].(string)
				if rule == "" && cl.Evidence["rules"] != nil {
					rule = "several rules"
				}
				if rule != "" {
					rule = "  (" + rule + ")"
				}
				fmt.Fprintf(&b, "    %-12s %-9s %s%s\n", cl.Verdict, cl.Aspect, cl.Text, rule)
			}
		}
	}
	b.WriteString("\n")
	header("aspect")
	for _, a := range append(slices.Clone(grounding.Aspects), extra...) {
		if t := byAspect[a]; t != nil {
			row(a, *t)
		} else {
			row(a, grounding.Totals{})
		}
	}
	row("total", out.Totals)
	fmt.Fprintf(&b, "\ngrounded-claim rate %s: supported / (supported + contradicted)\n", rateText(out.Totals.GroundedRate))
	_, err := io.WriteString(w, b.String())
	return err
}

func rateText(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *r)
}
