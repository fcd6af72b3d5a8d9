package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"

	"emer/internal/face"
	"emer/internal/models"

	"github.com/spf13/cobra"
)

func init() { register(newFacesCmd) }

// facesOptions configures `emer faces`.
type facesOptions struct {
	images         []string
	json           bool
	inputSize      int
	scoreThreshold float64
	detector       string // tiny, ssd or auto
	landmarks      string // net, tiny or none
	modelDir       string // empty means models.Dir()
	out            io.Writer
	errOut         io.Writer
}

func newFacesCmd(g *globalOptions) *cobra.Command {
	opts := facesOptions{out: g.stdout, errOut: g.stderr}
	cmd := &cobra.Command{
		Use:   "faces IMAGE...",
		Short: "Detect faces in JPEG/PNG images and read their expressions",
		Long: `faces finds the faces in each image with face-api's detectors, their 68
landmarks with its FaceLandmark68Net, and each face's expression with its
FaceExpressionNet (neutral, happy, sad, angry, fearful, disgusted, surprised),
in pure Go. With --json it prints one JSON object per image per line, in
argument order; boxes are [x, y, w, h] and landmarks [x, y] in pixels. A bad
image is reported and the others are still processed; the exit status is 1 if
any failed. The model files come from "emer models install".

--detector tiny is TinyFaceDetector (fast; it misses faces that fill the
frame), ssd is SsdMobilenetv1 at 512x512 (slower, finds close-ups and small
faces), auto (the default) runs tiny, then ssd on an image where tiny finds no
face, then ssd on the image zoomed out. --landmarks tiny uses the smaller
FaceLandmark68TinyNet, none skips landmarks; with landmarks the expression is
read on the face box aligned on them, as face-api does.

  emer faces photo.jpg
  emer faces --json --detector ssd --landmarks tiny a.png b.jpg`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.images = args
			return runFaces(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.json, "json", false, "print one JSON object per image per line")
	f.IntVar(&opts.inputSize, "input-size", face.DefaultInputSize, "detector input size in pixels, a multiple of 32")
	f.Float64Var(&opts.scoreThreshold, "score-threshold", face.DefaultScoreThreshold, "minimum face score, between 0 and 1")
	f.StringVar(&opts.detector, "detector", string(face.DetectorAuto), "face detector: tiny, ssd or auto")
	f.StringVar(&opts.landmarks, "landmarks", string(face.LandmarksNet), "landmark net: net, tiny or none")
	f.StringVar(&opts.modelDir, "models", "", "model directory (default $"+models.EnvDir+" or the user cache)")
	return cmd
}

// faceJSON and imageJSON are the --json output contract.
type faceJSON struct {
	Box         [4]float64      `json:"box"`
	Score       float64         `json:"score"`
	Expressions expressionsJSON `json:"expressions"`
	Landmarks   [][2]float64    `json:"landmarks,omitempty"` // 68 points; none with --landmarks none
}

// expressionsJSON lists the probabilities in face.Expressions order.
type expressionsJSON struct {
	Neutral   float64 `json:"neutral"`
	Happy     float64 `json:"happy"`
	Sad       float64 `json:"sad"`
	Angry     float64 `json:"angry"`
	Fearful   float64 `json:"fearful"`
	Disgusted float64 `json:"disgusted"`
	Surprised float64 `json:"surprised"`
}

func newExpressionsJSON(p face.Probs) expressionsJSON {
	r := func(k int) float64 { return round(float64(p[k]), 6) }
	return expressionsJSON{r(0), r(1), r(2), r(3), r(4), r(5), r(6)}
}

// top returns the n likeliest expressions, likeliest first.
func (e expressionsJSON) top(n int) []string {
	names := face.Expressions
	vals := [7]float64{e.Neutral, e.Happy, e.Sad, e.Angry, e.Fearful, e.Disgusted, e.Surprised}
	idx := []int{0, 1, 2, 3, 4, 5, 6}
	sort.SliceStable(idx, func(a, b int) bool { return vals[idx[a]] > vals[idx[b]] })
	out := make([]string, 0, n)
	for _, i := range idx[:n] {
		out = append(out, fmt.Sprintf("%s %.2f", names[i], vals[i]))
	}
	return out
}

type imageJSON struct {
	Image  string     `json:"image"`
	Width  int        `json:"width,omitempty"`
	Height int        `json:"height,omitempty"`
	Faces  []faceJSON `json:"faces"`
	Error  string     `json:"error,omitempty"`
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func runFaces(ctx context.Context, opts facesOptions) error {
	fopts := face.Options{
		InputSize:      opts.inputSize,
		ScoreThreshold: opts.scoreThreshold,
		Detector:       face.DetectorModel(opts.detector),
		Landmarks:      face.LandmarkModel(opts.landmarks),
	}
	if err := fopts.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	dir := opts.modelDir
	if dir == "" {
		var err error
		if dir, err = models.Dir(); err != nil {
			return err
		}
	}
	an, err := face.Load(dir, fopts)
	if err != nil {
		return err
	}
	// Images are analysed on all cores, a few at a time, and written in
	// argument order as soon as each one's turn comes.
	workers := runtime.GOMAXPROCS(0)
	results := make([]chan imageJSON, len(opts.images))
	for i := range results {
		results[i] = make(chan imageJSON, 1)
	}
	sem := make(chan struct{}, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for i, path := range opts.images {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] <- imageJSON{Image: path, Error: ctx.Err().Error()}
				continue
			}
			go func() {
				defer func() { <-sem }()
				results[i] <- analyzeImage(ctx, an, path)
			}()
		}
	}()
	enc := json.NewEncoder(opts.out)
	failed := 0
	for _, ch := range results {
		res := <-ch
		if res.Error != "" {
			failed++
			fmt.Fprintf(opts.errOut, "emer faces: %s\n", res.Error)
		}
		if opts.json {
			if err := enc.Encode(res); err != nil {
				return err
			}
		} else if res.Error == "" {
			writeFacesTable(opts.out, res)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images failed: %w", failed, len(opts.images), errPartial)
	}
	return nil
}

// analyzeImage decodes one image and reads its faces; a failure is
// recorded in the result's Error, which names the file.
func analyzeImage(ctx context.Context, an *face.Analyzer, path string) imageJSON {
	res := imageJSON{Image: path, Faces: []faceJSON{}}
	if err := ctx.Err(); err != nil {
		res.Error = err.Error()
		return res
	}
	img, err := face.DecodeFile(path)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Width, res.Height = img.W, img.H
	faces, err := an.Faces(img)
	if err != nil {
		res.Error = fmt.Sprintf("%s: %v", path, err)
		return res
	}
	for _, f := range faces {
		fj := faceJSON{
			Box:         [4]float64{round(f.Box.X, 2), round(f.Box.Y, 2), round(f.Box.W, 2), round(f.Box.H, 2)},
			Score:       round(f.Score, 6),
			Expressions: newExpressionsJSON(f.Expressions),
		}
		if f.Landmarks != nil {
			fj.Landmarks = make([][2]float64, len(f.Landmarks))
			for i, p := range f.Landmarks {
				fj.Landmarks[i] = [2]float64{round(p.X, 2), round(p.Y, 2)}
			}
		}
		res.Faces = append(res.Faces, fj)
	}
	return res
}

// writeFacesTable prints one image's faces for a person to read.
func writeFacesTable(w io.Writer, res imageJSON) {
	noun := "faces"
	if len(res.Faces) == 1 {
		noun = "face"
	}
	fmt.Fprintf(w, "%s  %dx%d  %d %s\n", res.Image, res.Width, res.Height, len(res.Faces), noun)
	for i, f := range res.Faces {
		fmt.Fprintf(w, "  %d  box %4.0f,%4.0f %4.0fx%-4.0f  score %.2f  %s\n", i+1, f.Box[0], f.Box[1], f.Box[2], f.Box[3], f.Score, strings.Join(f.Expressions.top(3), ", "))
	}
}
