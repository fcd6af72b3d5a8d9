package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"emer/internal/actions"
	"emer/internal/cues"
	"emer/internal/face"
)

func init() { register(newCuesCmd) }

type cuesOptions struct {
	clip         string
	subtitle     string
	subtitleFile string
	fps          float64
	detector     string // tiny, ssd or auto
	landmarks    string // net, tiny or none
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
subtitles, no face models) is reported with its reason, not as an error.

Faces: --detector auto (the default) runs TinyFaceDetector on every frame and
SsdMobilenetv1 (at full size, then zoomed out) on the frames it finds nothing
in, within a budget per clip: at most 4 such frames while SSD has found no
face, and once it has (a close-up), every such frame until it fails on 3 in a
row, then fewer and fewer. --detector tiny or ssd runs that detector alone.
--landmarks net (the default) finds 68 landmarks per face with
FaceLandmark68Net, tiny with the smaller FaceLandmark68TinyNet, none skips
them; from the landmarks come the facial actions (brows raised, smile, jaw
drop, ...), the main face's head pose and the clip's peak moment.

  emer cues clip.mp4
  emer cues clip.mp4 --json --landmarks tiny`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.clip = args[0]
			if cmd.Flags().Changed("subtitle") && cmd.Flags().Changed("subtitle-file") {
				return usageErrorf("--subtitle and --subtitle-file exclude each other")
			}
			if opts.fps == 0 || (cues.Options{FPS: opts.fps}).Validate() != nil {
				return usageErrorf("--fps must be a number of frames a second in (0, %g], got %g", cues.MaxFPS, opts.fps)
			}
			if err := checkFaceFlags(opts.detector, opts.landmarks); err != nil {
				return usageErrorf("%v", err)
			}
			return runCues(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.subtitle, "subtitle", "", "subtitle text of the clip")
	f.StringVar(&opts.subtitleFile, "subtitle-file", "", "subtitle file (.srt or .vtt)")
	f.Float64Var(&opts.fps, "fps", cues.DefaultFPS, "video frames analysed per second")
	addFaceFlags(cmd, &opts.detector, &opts.landmarks)
	f.BoolVar(&opts.json, "json", false, "write one JSON object")
	return cmd
}

// addFaceFlags adds --detector and --landmarks, the face networks of the
// visual cues, to the flags of cmd (cues, infer).
func addFaceFlags(cmd *cobra.Command, detector, landmarks *string) {
	f := cmd.Flags()
	f.StringVar(detector, "detector", string(face.DetectorAuto), "face detector: tiny, ssd or auto (ssd on frames tiny misses, within a budget per clip)")
	f.StringVar(landmarks, "landmarks", string(face.LandmarksNet), "landmark net: net, tiny or none (none: no facial actions)")
}

// checkFaceFlags reports the --detector and --landmarks values that are
// not a model's name, one a line.
func checkFaceFlags(detector, landmarks string) error {
	var probs []string
	if err := (face.Options{Detector: face.DetectorModel(detector)}).Validate(); err != nil {
		probs = append(probs, "--detector: "+err.Error())
	}
	if err := (face.Options{Landmarks: face.LandmarkModel(landmarks)}).Validate(); err != nil {
		probs = append(probs, "--landmarks: "+err.Error())
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "\n  "))
	}
	return nil
}

func runCues(ctx context.Context, opts cuesOptions) error {
	c, err := cues.Analyze(ctx, opts.clip, cues.Options{
		Subtitle:     opts.subtitle,
		SubtitleFile: opts.subtitleFile,
		FPS:          opts.fps,
		Detector:     face.DetectorModel(opts.detector),
		Landmarks:    face.LandmarkModel(opts.landmarks),
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

// detectionText says which networks found the faces and, for auto, how
// often SSD ran: "auto detector, SSD on 3 of 5 frames tiny missed;
// landmarks net".
func detectionText(d cues.Detection) string {
	s := string(d.Detector) + " detector"
	if d.Detector == face.DetectorAuto {
		s += fmt.Sprintf(", SSD on %d of %d frames tiny missed", d.SSDFrames, d.TinyMisses)
	}
	return s + "; landmarks " + string(d.Landmarks)
}

// writeFaceTimeline prints, in time order, the main face's expression
// segments, the facial actions (other tracks' named as such) and the peak
// moment, then the range of the main face's head pose.
func writeFaceTimeline(b *strings.Builder, v *cues.Visual) {
	type line struct {
		start float64
		order int // at equal starts: expressions, actions, peak
		text  string
	}
	var lines []line
	for _, s := range v.Summary {
		lines = append(lines, line{s.Start, 0, fmt.Sprintf("%5.1f–%.1f s  %s, mean %.2f", s.Start, s.End, s.Expression, s.MeanProb)})
	}
	for _, e := range v.Actions {
		text := e.Text()
		if e.Track != v.MainTrack {
			text = fmt.Sprintf("track %d: %s", e.Track, text)
		}
		lines = append(lines, line{e.Start, 1, fmt.Sprintf("%5.1f–%.1f s  %s", e.Start, e.End, text)})
	}
	if p := v.Peak; p != nil {
		lines = append(lines, line{p.T, 2, fmt.Sprintf("%5.1f s      peak: %s", p.T, p.Reason)})
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if lines[i].start != lines[j].start {
			return lines[i].start < lines[j].start
		}
		return lines[i].order < lines[j].order
	})
	for _, l := range lines {
		fmt.Fprintf(b, "       %s\n", l.text)
	}
	if len(v.HeadPose) > 0 {
		fmt.Fprintf(b, "       head pose over %d frames: yaw %s, pitch %s, roll %s\n", len(v.HeadPose),
			poseRange(v.HeadPose, func(p actions.Pose) float64 { return p.Yaw }),
			poseRange(v.HeadPose, func(p actions.Pose) float64 { return p.Pitch }),
			poseRange(v.HeadPose, func(p actions.Pose) float64 { return p.Roll }))
	}
}

// poseRange is the range of one angle of poses: "-5° to +12°".
func poseRange(poses []actions.Pose, angle func(actions.Pose) float64) string {
	lo, hi := angle(poses[0]), angle(poses[0])
	for _, p := range poses[1:] {
		lo, hi = min(lo, angle(p)), max(hi, angle(p))
	}
	return fmt.Sprintf("%+.0f° to %+.0f°", lo, hi)
}

// writeCuesText prints the cues for a person to read.
func writeCuesText(w io.Writer, c *cues.Cues) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %.1f s\n", c.Clip, c.Duration)
	v := c.Visual
	if v.Present {
		fmt.Fprintf(&b, "face:  %d frames, %d detections, %d tracks, main track %d; %s\n",
			v.FramesAnalyzed, len(v.Faces), len(v.Tracks), v.MainTrack, detectionText(v.Detection))
		writeFaceTimeline(&b, &v)
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
