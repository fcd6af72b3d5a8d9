package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/cues"
)

func init() { register(newCuesCmd) }

type cuesOptions struct {
	clip         string
	subtitle     string
	subtitleFile string
	fps          float64
	json         bool
	out          io.Writer
}

func newCuesCmd(g *globalOptions) *cobra.Command {
	opts := cuesOptions{out: g.stdout}
	cmd := &cobra.Command{
		Use:   "cues CLIP",
		Short: "Measure a clip's facial, vocal and subtitle cues",
		Long: `cues measures what a clip shows and says: faces and their expressions over
time, the voice's pitch, loudness, jitter, shimmer, pauses and changes
against the speaker's own level, and the emotion words, valence and
punctuation of the subtitles.

Subtitles come from --subtitle, --subtitle-file, a sidecar .srt/.vtt file
next to the clip, or a text track inside it. Video is analysed at --fps
frames a second (default 2, at most 60). A missing part (no audio, no face, no
subtitles, no face models) is reported with its reason, not as an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.clip = args[0]
			if cmd.Flags().Changed("subtitle") && cmd.Flags().Changed("subtitle-file") {
				return usageErrorf("--subtitle and --subtitle-file exclude each other")
			}
			if opts.fps == 0 || (cues.Options{FPS: opts.fps}).Validate() != nil {
				return usageErrorf("--fps must be a number of frames a second in (0, %g], got %g", cues.MaxFPS, opts.fps)
			}
			return runCues(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.subtitle, "subtitle", "", "subtitle text of the clip")
	f.StringVar(&opts.subtitleFile, "subtitle-file", "", "subtitle file (.srt or .vtt)")
	f.Float64Var(&opts.fps, "fps", cues.DefaultFPS, "video frames analysed per second")
	f.BoolVar(&opts.json, "json", false, "write one JSON object")
	return cmd
}

func runCues(ctx context.Context, opts cuesOptions) error {
	c, err := cues.Analyze(ctx, opts.clip, cues.Options{
		Subtitle:     opts.subtitle,
		SubtitleFile: opts.subtitleFile,
		FPS:          opts.fps,
	})
	if err != nil {
		return err
	}
	if opts.json {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(opts.out, "%s\n", b)
		return err
	}
	return writeCuesText(opts.out, c)
}

// writeCuesText prints the cues for a person to read.
func writeCuesText(w io.Writer, c *cues.Cues) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %.1f s\n", c.Clip, c.Duration)
	v := c.Visual
	if v.Present {
		fmt.Fprintf(&b, "face:  %d frames, %d detections, %d tracks\n", v.FramesAnalyzed, len(v.Faces), len(v.Tracks))
		for _, s := range v.Summary {
			fmt.Fprintf(&b, "       %-9s %5.1f–%.1f s  mean %.2f\n", s.Expression, s.Start, s.End, s.MeanProb)
		}
	} else {
		fmt.Fprintf(&b, "face:  none (%s)\n", v.Reason)
	}
	a := c.Audio
	switch {
	case !a.Present:
		fmt.Fprintf(&b, "voice: none (%s)\n", a.Reason)
	case a.F0 == nil:
		fmt.Fprintf(&b, "voice: no voiced speech; intensity %.1f dB\n", a.Intensity.Mean)
	default:
		fmt.Fprintf(&b, "voice: F0 %.0f Hz (sd %.0f, %.0f–%.0f), intensity %.1f dB, voiced %.0f %%, %.1f segments/s",
			a.F0.Mean, a.F0.SD, a.F0.Min, a.F0.Max, a.Intensity.Mean, a.VoicedRatio*100, a.SpeechRate)
		if a.JitterLocal != nil && a.ShimmerLocal != nil {
			fmt.Fprintf(&b, ", jitter %.2f %%, shimmer %.2f %%", *a.JitterLocal*100, *a.ShimmerLocal*100)
		}
		b.WriteString("\n")
		for _, e := range a.Events {
			fmt.Fprintf(&b, "       %5.1f–%.1f s  %s\n", e.Start, e.End, e.Text)
		}
	}
	t := c.Text
	if t.Present {
		fmt.Fprintf(&b, "text:  %q\n", t.Subtitle)
		var words []string
		for _, e := range t.EmotionWords {
			s := e.Word + " (" + e.Category
			if e.Negated {
				s += ", negated"
			}
			words = append(words, s+")")
		}
		if len(words) == 0 {
			words = []string{"none"}
		}
		fmt.Fprintf(&b, "       emotion words: %s\n", strings.Join(words, ", "))
		fmt.Fprintf(&b, "       valence %+.2f (%s), %d sentences, %d exclamations, %d questions\n",
			t.Valence, t.ValenceMethod, t.Sentences, t.Exclamations, t.Questions)
	} else {
		fmt.Fprintf(&b, "text:  none (%s)\n", t.Reason)
	}
	warn := append([]string(nil), c.Warnings...)
	sort.Strings(warn)
	for _, s := range warn {
		fmt.Fprintf(&b, "warning: %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
