package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"emer/internal/dataset"
	"emer/internal/infer"
	"emer/internal/media"
	"emer/internal/table"
	"emer/internal/textenc"
)

func init() {
	register(newBuildCmd)
	registerBuild(newBuildSplitCmd)
	registerBuild(newBuildCostCmd)
}

// buildFactories are the subcommands of emer build; each build_*.go file
// registers its own.
var buildFactories []commandFactory

func registerBuild(f commandFactory) { buildFactories = append(buildFactories, f) }

func newBuildCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build EMER datasets and the training data of AffectGPT-like models",
		Long: `build makes EMER datasets: annotators' clues per clip and aspect (visual,
audio, content, context), summarized and checked into one description per
clip, and the train/test files that multimodal models are fine-tuned on.`,
	}
	for _, f := range buildFactories {
		cmd.AddCommand(f(g))
	}
	return cmd
}

// buildSplitOptions are the inputs of runBuildSplit.
type buildSplitOptions struct {
	Dataset     string        // EMER CSV: names, a description column, subtitles and emotions optional
	Column      string        // description column; "" picks one of dataset.TextColumns
	Seed        uint64        // split seed
	Test        float64       // test fraction
	RemoveShort time.Duration // drop training clips shorter than this; 0 keeps all
	Media       string        // media folder; "" reads no media
	Ext         string        // extension of media names in the exports without --media
	GTEng       bool          // train on every clip
	Mix         []string      // JSONL instruction files mixed into train
	Actions     string        // facial actions JSON, optional
	Out         string        // output folder
	Stdout      io.Writer
	Stderr      io.Writer

	probe func(ctx context.Context, path string) (*media.Info, error) // media.Probe unless a test sets it
}

func newBuildSplitCmd(g *globalOptions) *cobra.Command {
	opts := buildSplitOptions{probe: media.Probe}
	cmd := &cobra.Command{
		Use:   "split --dataset CSV --seed S --out DIR [--test 0.2] [--remove-short 2s --media DIR] [--gt-eng] [--mix FILE]...",
		Short: "Split an EMER dataset into train and test and write the trainers' files",
		Long: `split divides an EMER dataset (a CSV with names, a description column such
as reasons, and optionally subtitles and emotions) into a training and a
test set as AffectGPT's data selection does, and writes the files trainers
read, for each side:

  affectgpt/{train,test}.json   AffectGPT / Video-LLaMA video instructions
                                (the VideoChat layout: video, QA of i, q, a)
  llava/{train,test}.json       LLaVA conversations (id, video, conversations)
  sharegpt/{train,test}.json    LLaMA-Factory sharegpt with videos and audios,
  sharegpt/dataset_info.json    registered as emer_train and emer_test
  merr/{train,test}_fine.json   Emotion-LLaMA MERR fine-grained annotation
  merr/{train,test}_coarse.txt  MERR coarse list "name frames label" (needs
                                the emotions column and --media)
  manifest.json                 seed, rule, settings, counts, the train and
                                test clips, the SHA-256 of every input and file

The split is random but fixed: a clip is in the test set when the first 8
bytes of HMAC-SHA256(key "emer-split/1 seed=S", the clip name in NFC), read
as a big-endian unsigned integer, are below floor(test * 2^64). It depends
only on the seed and the clip's own name, so it is the same on every run and
machine, and adding clips never moves an old clip between train and test.
The test count is therefore about test * n, not exactly (no rule can be
exact for every set of clips and never move one); it is printed with its
binomial range (3 standard deviations) and a warning when outside it.

Settings (the EMER paper's AffectGPT data selection):
  --remove-short 2s  drop training clips shorter than 2 s; durations are
                     measured with ffprobe in --media, where each clip is
                     found by name with any common video or audio extension.
                     The test set is kept whole, so that every setting is
                     scored on the same clips.
  --gt-eng           train on every clip, the test clips included (an upper
                     bound: the manifest marks the test set as leaked)
  --mix FILE         add other instruction data to the training set: JSON
                     Lines of {"instruction", "response", "id"?, "video"?}.
                     Items go into the LLaVA and sharegpt files, and into the
                     AffectGPT file when they have a video; never into MERR.

Media paths in the files are relative to --media (the trainer's media
folder); without --media they are the clip name with --ext. --actions gives
measured facial actions for the MERR fine-grained file: a JSON object keyed
by clip, {"peak_frame": N, "actions": [{"au": "AU12", "description": "..."}]}.

Every file is written the same way for the same inputs, byte for byte.`,
		Example: `  emer build split --dataset ../shared/data/emer-v1/gt-eng.csv --seed 1 --out runs/split
  emer build split --dataset gt-eng.csv --seed 1 --remove-short 2s --media clips/ --out runs/short
  emer build split --dataset gt-eng.csv --seed 1 --gt-eng --mix videochat.jsonl --out runs/gteng`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			return runBuildSplit(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dataset, "dataset", "", "EMER dataset CSV (names, reasons; subtitles and emotions optional)")
	f.StringVar(&opts.Column, "column", "", "description column (default: the first of "+strings.Join(dataset.TextColumns, ", ")+")")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed of the split")
	f.Float64Var(&opts.Test, "test", 0.2, "fraction of clips in the test set, in [0, 1]")
	f.DurationVar(&opts.RemoveShort, "remove-short", 0, "drop training clips shorter than this (e.g. 2s); needs --media")
	f.StringVar(&opts.Media, "media", "", "folder of the clips' media files")
	f.StringVar(&opts.Ext, "ext", ".mp4", "extension of the media names written without --media")
	f.BoolVar(&opts.GTEng, "gt-eng", false, "train on every clip, the test clips included")
	f.StringArrayVar(&opts.Mix, "mix", nil, "JSONL instruction data mixed into the training set (repeatable)")
	f.StringVar(&opts.Actions, "actions", "", "facial actions JSON for the MERR fine-grained file")
	f.StringVar(&opts.Out, "out", "", "output folder")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("seed")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runBuildSplit(ctx context.Context, opts buildSplitOptions) error {
	var probs []string
	if opts.Dataset == "" {
		probs = append(probs, "--dataset is required")
	}
	if opts.Out == "" {
		probs = append(probs, "--out is required")
	}
	if err := (dataset.Rule{Test: opts.Test}).Validate(); err != nil {
		probs = append(probs, "--test: "+err.Error())
	}
	if opts.RemoveShort < 0 {
		probs = append(probs, "--remove-short must not be negative")
	}
	if opts.RemoveShort > 0 && opts.Media == "" {
		probs = append(probs, "--remove-short measures durations in --media, which is missing")
	}
	if opts.Media == "" && !strings.HasPrefix(opts.Ext, ".") {
		probs = append(probs, fmt.Sprintf("--ext %q must start with a dot", opts.Ext))
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	if st, err := os.Stat(opts.Out); err == nil && !st.IsDir() {
		return fmt.Errorf("--out %s is a file, not a folder", opts.Out)
	}

	enc := textenc.Default()
	exs, column, err := dataset.ReadExamples(opts.Dataset, enc, opts.Column)
	if err != nil {
		return err
	}
	inputs := []dataset.InputDigest{}
	addInput := func(role, path string) error {
		sum, err := fileDigest(path)
		if err != nil {
			return err
		}
		inputs = append(inputs, dataset.InputDigest{Role: role, Path: path, SHA256: sum})
		return nil
	}
	if err := addInput("dataset", opts.Dataset); err != nil {
		return err
	}
	var mix []dataset.MixItem
	for _, path := range opts.Mix {
		items, err := dataset.ReadMixFile(path, enc)
		if err != nil {
			return err
		}
		if err := addInput("mix", path); err != nil {
			return err
		}
		mix = append(mix, items...)
	}
	if opts.Actions != "" {
		actions, err := dataset.ReadActionsFile(opts.Actions)
		if err != nil {
			return err
		}
		if err := addInput("actions", opts.Actions); err != nil {
			return err
		}
		known := map[string]bool{}
		for i := range exs {
			known[exs[i].Clip] = true
			exs[i].Actions = actions[exs[i].Clip]
		}
		var extra []string
		for clip := range actions {
			if !known[clip] {
				extra = append(extra, clip)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			fmt.Fprintf(opts.Stderr, "emer: %s: %d clips are not in the dataset and are ignored: %s\n", opts.Actions, len(extra), table.ListNames(extra, 8))
		}
	}
	mediaNames := "the clip name with " + opts.Ext + " (no --media given)"
	if opts.Media != "" {
		digests, err := measureMedia(ctx, opts, exs)
		if err != nil {
			return err
		}
		inputs = append(inputs, digests...)
		mediaNames = "the file found for each clip in --media, relative to it"
	} else {
		for i := range exs {
			exs[i].Media = exs[i].Clip + opts.Ext
		}
	}

	split, err := dataset.MakeSplit(exs, dataset.SplitOptions{
		Rule:        dataset.Rule{Seed: opts.Seed, Test: opts.Test},
		GTEng:       opts.GTEng,
		MinDuration: opts.RemoveShort.Seconds(),
		Mix:         mix,
	})
	if err != nil {
		return err
	}
	files, skipped, leftOut, err := split.Exports()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := dataset.CheckExport(f.Name, f.Data); err != nil {
			return fmt.Errorf("an export does not meet its layout, nothing written: %w", err)
		}
	}
	manifest, err := split.Manifest(files, skipped, leftOut, dataset.Settings{
		Dataset:     opts.Dataset,
		TextColumn:  column,
		GTEng:       opts.GTEng,
		RemoveShort: dataset.Seconds(opts.RemoveShort.Seconds()),
		Media:       opts.Media,
		MediaNames:  mediaNames,
		Mix:         opts.Mix,
		Actions:     opts.Actions,
	}, inputs)
	if err != nil {
		return err
	}
	files = append(files, dataset.File{Name: dataset.FileManifest, Data: manifest})
	if err := writeOutputs(opts.Out, files); err != nil {
		return err
	}

	tol := split.Tolerance
	fmt.Fprintf(opts.Stdout, "%d clips: %d train, %d test (seed %d, test %g; expected %.1f, binomial range %d..%d)\n",
		split.Clips, len(split.Train), len(split.Test), opts.Seed, opts.Test, tol.Expected, tol.Low, tol.High)
	if len(split.Removed) > 0 {
		fmt.Fprintf(opts.Stdout, "%d training clips shorter than %s removed\n", len(split.Removed), opts.RemoveShort)
	}
	if opts.GTEng {
		fmt.Fprintf(opts.Stdout, "gt-eng: the %d test clips are trained on too (leaked on purpose)\n", len(split.Test))
	}
	if len(mix) > 0 {
		fmt.Fprintf(opts.Stdout, "%d instruction items mixed into train\n", len(mix))
	}
	fmt.Fprintf(opts.Stdout, "wrote %d files to %s\n", len(files), opts.Out)
	if !tol.Contains(len(split.Test)) {
		fmt.Fprintf(opts.Stderr, "emer: warning: the test count %d is outside its binomial range %d..%d; another --seed gives a more typical split\n", len(split.Test), tol.Low, tol.High)
	}
	for _, name := range sortedKeys(leftOut) {
		fmt.Fprintf(opts.Stderr, "emer: %s: %d mixed items without a video left out (its loader reads a video for every item)\n", name, leftOut[name])
	}
	for _, s := range skipped {
		fmt.Fprintf(opts.Stderr, "emer: %s not written: %s\n", s.Name, s.Reason)
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// measureMedia finds each clip's media file in opts.Media, measures its
// duration and frame count, and returns the files' digests. Every clip
// without a file, and every file that cannot be measured, is reported.
func measureMedia(ctx context.Context, opts buildSplitOptions, exs []dataset.Example) ([]dataset.InputDigest, error) {
	if st, err := os.Stat(opts.Media); err != nil {
		return nil, fmt.Errorf("--media: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("--media %s is not a folder", opts.Media)
	}
	paths := make([]string, len(exs))
	var missing []string
	for i, ex := range exs {
		p, err := infer.FindMedia(opts.Media, ex.Clip)
		if err != nil {
			if !errors.Is(err, infer.ErrNoMedia) {
				return nil, err
			}
			missing = append(missing, ex.Clip)
			continue
		}
		paths[i] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: no media file for %d clips (tried %s): %s", opts.Media, len(missing),
			strings.Join(infer.MediaExtensions, " "), table.ListNames(missing, 8))
	}
	digests := make([]dataset.InputDigest, len(exs))
	errs := make([]error, len(exs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range exs {
		g.Go(func() error {
			info, err := opts.probe(gctx, paths[i])
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				errs[i] = err
				return nil
			}
			if info.Duration <= 0 {
				errs[i] = fmt.Errorf("%s: ffprobe gives no duration", paths[i])
				return nil
			}
			exs[i].Duration = info.Duration
			if v, ok := info.Video(); ok && v.FrameRate > 0 {
				exs[i].Frames = int(math.Round(info.Duration * v.FrameRate))
			}
			rel, err := filepath.Rel(opts.Media, paths[i])
			if err != nil {
				errs[i] = err
				return nil
			}
			exs[i].Media = filepath.ToSlash(rel)
			sum, err := fileDigest(paths[i])
			if err != nil {
				errs[i] = err
				return nil
			}
			digests[i] = dataset.InputDigest{Role: "media", Path: paths[i], SHA256: sum}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		if len(failed) > 20 {
			failed = append(failed[:20:20], fmt.Errorf("and %d more media files", len(failed)-20))
		}
		return nil, errors.Join(failed...)
	}
	return digests, nil
}

// fileDigest returns the hex SHA-256 of the file at path.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeOutputs writes files into dir, each through a temporary file
// renamed into place, and removes the export files of an earlier split
// that this one did not write, so that the folder holds exactly what its
// manifest lists.
func writeOutputs(dir string, files []dataset.File) error {
	written := map[string]bool{}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("cannot write in %s: %w", dir, err)
		}
		if err := writeFileAtomic(path, f.Data); err != nil {
			return err
		}
		written[f.Name] = true
	}
	for _, name := range dataset.ExportNames() {
		if written[name] {
			continue
		}
		err := os.Remove(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// buildCostOptions are the inputs of runBuildCost.
type buildCostOptions struct {
	Drafts string
	Final  string
	JSON   bool
	Stdout io.Writer
	Stderr io.Writer
}

func newBuildCostCmd(g *globalOptions) *cobra.Command {
	var opts buildCostOptions
	cmd := &cobra.Command{
		Use:   "cost --drafts FILE --final FILE [--json]",
		Short: "Measure how much of the drafts survived into the final descriptions",
		Long: `cost compares draft descriptions with the final texts people made from them,
per aspect (visual, audio, content, context) and overall. Both files are
annotation records, CSV or JSONL, with the fields clip, annotator
(optional), aspect, text and lang; records are matched by clip and aspect,
and by annotator too when both files have one.

Texts are compared as tokens: words, and each Chinese or Japanese character
on its own; punctuation is not a token and case is kept. For each aspect:

  kept fraction  draft tokens that survive in the final text (the longest
                 common subsequence of each pair), over all draft tokens
  edit rate      token insertions, deletions and substitutions turning each
                 draft into its final text (Levenshtein), over all final tokens

Records with no counterpart in the other file are counted on stderr and
listed in the JSON, not scored.`,
		Example: `  emer build cost --drafts drafts.csv --final final.csv
  emer build cost --drafts drafts.jsonl --final reviewed.jsonl --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stdout, opts.Stderr = g.stdout, g.stderr
			return runBuildCost(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Drafts, "drafts", "", "draft annotation records (.csv or .jsonl)")
	f.StringVar(&opts.Final, "final", "", "final annotation records (.csv or .jsonl)")
	f.BoolVar(&opts.JSON, "json", false, "write one JSON object")
	_ = cmd.MarkFlagRequired("drafts")
	_ = cmd.MarkFlagRequired("final")
	return cmd
}

func runBuildCost(_ context.Context, opts buildCostOptions) error {
	if opts.Drafts == "" || opts.Final == "" {
		return usageErrorf("--drafts and --final are required")
	}
	ro := dataset.ReadOptions{Encoding: textenc.Default()}
	drafts, err := dataset.ReadAnnotationsFile(opts.Drafts, ro)
	if err != nil {
		return err
	}
	finals, err := dataset.ReadAnnotationsFile(opts.Final, ro)
	if err != nil {
		return err
	}
	rep, err := dataset.PostEditCost(drafts, finals)
	if err != nil {
		return err
	}
	if n := len(rep.DraftsWithoutFinal); n > 0 {
		fmt.Fprintf(opts.Stderr, "emer: %d drafts have no final text and are not counted: %s\n", n, table.ListNames(rep.DraftsWithoutFinal, 5))
	}
	if n := len(rep.FinalsWithoutDraft); n > 0 {
		fmt.Fprintf(opts.Stderr, "emer: %d final texts have no draft and are not counted: %s\n", n, table.ListNames(rep.FinalsWithoutDraft, 5))
	}
	if opts.JSON {
		return writeJSON(opts.Stdout, rep)
	}
	tw := newTable(opts.Stdout)
	fmt.Fprintln(tw, "aspect\tpairs\tdraft tokens\tfinal tokens\tkept\tkept fraction\tedits\tedit rate")
	row := func(name string, c dataset.CostCounts) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%d\t%s\n", name, c.Pairs, c.DraftTokens, c.FinalTokens, c.Kept, fraction(c.KeptFraction), c.Edits, fraction(c.EditRate))
	}
	for _, a := range rep.Aspects {
		row(string(a.Aspect), a.CostCounts)
	}
	row("overall", rep.Overall)
	return tw.Flush()
}

// fraction prints a fraction with four decimals, or n/a.
func fraction(f *float64) string {
	if f == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *f)
}
