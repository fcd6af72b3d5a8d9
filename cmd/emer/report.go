package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/agreement"
	"emer/internal/batch"
	"emer/internal/config"
	"emer/internal/infer"
	"emer/internal/judge"
	"emer/internal/media"
	"emer/internal/pgstore"
	"emer/internal/report"
	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/table"
)

func init() { register(newReportCmd) }

// reportOptions are the inputs of runReport.
type reportOptions struct {
	Evals     []string // emer eval output folders
	DB        string   // the store of emer serve's rating studies
	Store     string   // or that store as sqlite:PATH or postgres://..., when DB is empty
	Study     string   // the study's ID or name; "" when the store holds one
	Checks    []string // [NAME=]FILE of emer build check --json
	Media     string   // folder of the clips
	Clips     int      // clips of the qualitative section, when ClipNames is empty
	ClipNames []string
	Frames    int // frames per clip
	Title     string
	Timestamp bool
	Seed      uint64 // of the human scores' bootstrap
	Out       string
	Stderr    io.Writer

	now func() time.Time // time.Now when nil
}

// reportFrameSide is the longer side of the frames in the page, in pixels.
const reportFrameSide = 320

func newReportCmd(g *globalOptions) *cobra.Command {
	opts := reportOptions{Clips: 3, Frames: 4, Seed: agreement.DefaultBootstrap.Seed}
	cmd := &cobra.Command{
		Use:   "report --eval DIR [--eval DIR ...] [--db FILE | --store postgres://...] [--check [NAME=]FILE ...] [--media DIR] [--clips N | --clip NAME ...] --out report.html",
		Short: "Write one self-contained HTML report: leaderboards, plots, agreement with people, reasoning side by side",
		Long: `report reads the output folders of emer eval and, optionally, the rating
study of emer serve and the grounding checks of emer build check, and writes
one HTML file that needs nothing else to be read (styles inline, plots as
inline SVG, frames as data: URIs; it fetches nothing):

  - a leaderboard shaped like the EMER paper's tables: per system, each
    folder's clue, emotion and (paper protocol) modality scores, mean ±
    standard error with n, as summary.json has them; the human score of the
    study (mean rating 1-4 over clips, with its 95 % bootstrap interval over
    clips, seeded by --seed) with its clips and ratings; the grounded-claim
    rate of a check file;
  - a bar chart per metric;
  - with --db: Krippendorff's alpha (ordinal) and Fleiss' kappa of the
    raters over every (clip, candidate) rated, and per folder and metric
    (clue, emotion) a scatter of the judge's score of each system on each
    clip against the clip's mean rating, with Spearman's rho and Kendall's
    tau-b of those pairs and of the systems' means;
  - for --clips N clips (the first N of the ground truth of the first
    --eval) or the clips named by --clip: --frames frames (from --media DIR,
    else the study's media files, through ffmpeg), the subtitle, the ground
    truth and every system's reasoning side by side with its scores there.

Systems are matched by name across folders, study and checks, and clips by
their dataset name. The ground truth, predictions and subtitles are read
from the files each folder's run.json names. --db names the SQLite store of
emer serve, read-only (--store postgres://USER@HOST/DB the PostgreSQL one
of emer serve --store); --study picks a study by ID or name when it holds
several. --check NAME=FILE attributes a check to system NAME; a bare FILE
to the system named by its base name (valley.json: valley).

The same inputs give the same file, byte for byte: --timestamp adds the time
of writing. The file is written beside --out and renamed into place. Problems
that leave part of the report out (a clip without media, a predictions file
gone) are listed on stderr and in the report, and the exit status is then 1,
after the file is written.

Examples:
  emer report --eval runs/qwen-paper --out report.html
  emer report --eval runs/qwen-paper --eval runs/gpt4o-paper --db study.db \
      --check valley=checks/valley.json --media ../shared/data/clips --clips 4 --out report.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Stderr = g.stderr
			return runReport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Evals, "eval", nil, "output folder of emer eval; repeatable")
	f.StringVar(&opts.DB, "db", "", "SQLite store of emer serve holding the rating study")
	f.StringVar(&opts.Store, "store", "", "instead of --db: the store of emer serve as sqlite:FILE or postgres://USER@HOST/DB")
	f.StringVar(&opts.Study, "study", "", "the study's ID or name, when --db or --store holds several")
	f.StringArrayVar(&opts.Checks, "check", nil, "JSON of emer build check --json as NAME=FILE (or FILE, named by its base name); repeatable")
	f.StringVar(&opts.Media, "media", "", "folder of the clips, found by name with any common extension")
	f.IntVar(&opts.Clips, "clips", opts.Clips, "clips shown side by side: the first N of the ground truth (0: none)")
	f.StringArrayVar(&opts.ClipNames, "clip", nil, "a clip to show side by side, instead of --clips; repeatable")
	f.IntVar(&opts.Frames, "frames", opts.Frames, "frames per clip, spread over the clip (0: none)")
	f.StringVar(&opts.Title, "title", "", "the report's title (default \"EMER evaluation report\")")
	f.BoolVar(&opts.Timestamp, "timestamp", false, "print the time of writing in the report (it is then no longer the same for the same inputs)")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of the bootstrap of the human scores' intervals")
	f.StringVar(&opts.Out, "out", "", "HTML file to write")
	return cmd
}

// reportEval is an eval folder as the report reads it.
type reportEval struct {
	dir  string
	info *evalRunInfo // nil when run.json could not be read
	eval report.Eval
}

func runReport(ctx context.Context, opts reportOptions) error {
	if err := checkReportOptions(opts); err != nil {
		return err
	}
	var problems []string
	warn := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	in := report.Input{Title: opts.Title, Bootstrap: agreement.DefaultBootstrap}
	in.Bootstrap.Seed = opts.Seed
	if opts.Timestamp {
		now := time.Now
		if opts.now != nil {
			now = opts.now
		}
		in.Generated = now()
	}
	var evals []*reportEval
	var errs []error
	for _, dir := range opts.Evals {
		e, err := readReportEval(ctx, dir, opts.DB != "" || opts.Store != "", warn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		evals = append(evals, e)
		in.Evals = append(in.Evals, e.eval)
	}
	var studyClips map[string]study.Clip
	if opts.DB != "" || opts.Store != "" {
		st, clips, err := readReportStudy(ctx, opts, opts.Study)
		if err != nil {
			errs = append(errs, err)
		}
		in.Study, studyClips = st, clips
	}
	for _, spec := range opts.Checks {
		c, err := readReportCheck(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in.Checks = append(in.Checks, c)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	clips, err := reportClips(ctx, opts, evals, studyClips, warn)
	if err != nil {
		return err
	}
	in.Clips = clips
	in.Notes = problems

	r, err := report.Build(in)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		return err
	}
	if err := replaceFile(opts.Out, buf.Bytes()); err != nil {
		return err
	}
	problems = r.Notes // Build may add its own
	ratings := 0
	if in.Study != nil {
		ratings = len(in.Study.Ratings)
	}
	fmt.Fprintf(opts.Stderr, "emer report: wrote %s: %d systems, %d eval folders, %d ratings, %d checks, %d clips side by side, %d plots\n",
		opts.Out, len(r.Rows), len(in.Evals), ratings, len(in.Checks), len(r.Clips), len(r.Charts)+len(r.Scatters))
	for _, p := range problems {
		fmt.Fprintf(opts.Stderr, "emer report: %s\n", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d parts of the report are missing (listed above and in %s): %w", len(problems), opts.Out, errPartial)
	}
	return nil
}

// checkReportOptions reports every mistake of the command line.
func checkReportOptions(opts reportOptions) error {
	var probs []string
	if len(opts.Evals) == 0 {
		probs = append(probs, "at least one --eval DIR is required")
	}
	if opts.Out == "" {
		probs = append(probs, "--out is required")
	}
	if opts.Clips < 0 {
		probs = append(probs, fmt.Sprintf("--clips %d is negative", opts.Clips))
	}
	if opts.Frames < 0 || opts.Frames > 16 {
		probs = append(probs, fmt.Sprintf("--frames %d: want 0 to 16", opts.Frames))
	}
	if opts.Study != "" && opts.DB == "" && opts.Store == "" {
		probs = append(probs, "--study needs --db or --store")
	}
	if opts.DB != "" && opts.Store != "" {
		probs = append(probs, "give --db FILE or --store, not both (--db FILE is --store sqlite:FILE)")
	}
	if _, err := config.ParseStore(opts.Store); err != nil {
		probs = append(probs, "--store: "+err.Error())
	}
	seen := map[string]bool{}
	for _, d := range opts.Evals {
		if a := absPath(d); seen[a] {
			probs = append(probs, fmt.Sprintf("--eval %s is given twice", d))
		} else {
			seen[a] = true
		}
	}
	for _, c := range opts.ClipNames {
		if c == "" {
			probs = append(probs, "--clip is empty")
		}
	}
	if len(probs) > 0 {
		return usageErrorf("%s", strings.Join(probs, "\n  "))
	}
	return nil
}

// readReportEval reads an eval folder: its summary, its run.json and,
// from its store, each sample's score. A folder without a store is read
// from its summary alone, which leaves the scatters and the clips' scores
// out (a problem only when a study is there to compare with).
func readReportEval(ctx context.Context, dir string, withStudy bool, warn func(string, ...any)) (*reportEval, error) {
	sumPath := filepath.Join(dir, "summary.json")
	b, err := os.ReadFile(sumPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("--eval %s: %w", dir, serr)
		}
		return nil, fmt.Errorf("%s is not a finished emer eval output folder: it has no summary.json (run emer eval --out %s to the end first)", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	var sum evalSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		return nil, fmt.Errorf("%s: %w", sumPath, jsonPosition(b, err))
	}
	proto, err := judge.LookupProtocol(sum.Judge.Protocol)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sumPath, err)
	}
	e := &reportEval{dir: dir, eval: report.Eval{
		Label: dir, Judge: sum.Judge.Model, Protocol: proto.Name, Metrics: proto.Metrics, Lo: proto.Lo, Hi: proto.Hi,
		Systems: sum.Systems, Samples: map[string]map[judge.Metric]map[string]float64{},
	}}
	runPath := filepath.Join(dir, "run.json")
	if b, err := os.ReadFile(runPath); err != nil {
		warn("%s: %v: the ground truth and predictions it judged are not shown", dir, err)
	} else {
		var info evalRunInfo
		if err := json.Unmarshal(b, &info); err != nil {
			return nil, fmt.Errorf("%s: %w", runPath, jsonPosition(b, err))
		}
		e.info = &info
	}

	dbPath := filepath.Join(dir, "emer.db")
	if _, err := os.Stat(dbPath); err != nil {
		if withStudy {
			warn("%s: %v: without its results per sample the judge cannot be compared with the raters", dir, err)
		}
		return e, nil
	}
	db, err := store.OpenReadOnly(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var items []judge.Judged
	err = db.Scan(ctx, store.JudgeRun, store.JudgeKind, func(rec batch.Record) error {
		r, err := store.ParseResult(rec)
		if err != nil {
			return err
		}
		items = append(items, judge.Judged{Sample: r.Sample, System: r.System, Metric: judge.Metric(r.Metric), Status: judge.Status(r.Status), Score: r.Score})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dbPath, err)
	}
	for sys := range sum.Systems {
		per := map[judge.Metric]map[string]float64{}
		for _, m := range proto.Metrics {
			per[m] = judge.SampleScores(items, sys, m)
		}
		e.eval.Samples[sys] = per
	}
	return e, nil
}

// jsonPosition adds to a JSON decoding error the line and column of the
// last byte read: the bad character of a syntax error, the end of a value
// of the wrong type.
func jsonPosition(data []byte, err error) error {
	var off int64 = -1
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		off = se.Offset - 1
	} else if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		off = te.Offset - 1
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// openReportStudies opens the studies of emer serve that --db or --store
// names, read-only: the store, its name for messages, and the function
// that closes it.
func openReportStudies(ctx context.Context, opts reportOptions) (study.Store, string, func(), error) {
	where := config.Store{Driver: config.DriverSQLite, Path: opts.DB}
	flag := "--db"
	if opts.DB == "" {
		where, _ = config.ParseStore(opts.Store) // checked by checkReportOptions
		flag = "--store"
	}
	if where.Driver == config.DriverPostgres {
		st, err := pgstore.Open(ctx, where.URL, pgstore.Options{ReadOnly: true})
		if err != nil {
			return nil, "", nil, err
		}
		return st.Studies(), st.Name(), func() { st.Close() }, nil
	}
	if _, err := os.Stat(where.Path); err != nil {
		return nil, "", nil, fmt.Errorf("%s: %w", flag, err)
	}
	db, err := store.OpenReadOnly(ctx, where.Path)
	if err != nil {
		return nil, "", nil, err
	}
	studies := store.NewStudies(db)
	return studies, where.Path, func() { studies.Close(); db.Close() }, nil
}

// readReportStudy reads the ratings of a study, and its clips by name,
// from the store of emer serve, read-only.
func readReportStudy(ctx context.Context, opts reportOptions, which string) (*report.Study, map[string]study.Clip, error) {
	studies, path, done, err := openReportStudies(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	svc := study.NewService(studies, 0, nil)
	list, err := svc.Studies(ctx)
	if err != nil {
		return nil, nil, err
	}
	st, err := pickStudy(path, list, which)
	if err != nil {
		return nil, nil, err
	}
	prog, err := svc.Progress(ctx, st.ID)
	if err != nil {
		return nil, nil, err
	}
	clips := make(map[string]study.Clip, len(prog.Clips))
	for _, c := range prog.Clips {
		clips[c.Clip.Name] = c.Clip
	}
	ratings, err := svc.Ratings(ctx, st.ID)
	if err != nil {
		return nil, nil, err
	}
	out := &report.Study{Name: st.Name, Source: path}
	for _, r := range ratings {
		rt := report.Rating{Rater: r.Rater.ID, Clip: r.Clip.Name, Score: float64(r.Score)}
		if r.Source == study.GroundTruth {
			rt.GroundTruth = true
		} else {
			rt.System = r.Source
		}
		out.Ratings = append(out.Ratings, rt)
	}
	return out, clips, nil
}

// pickStudy returns the study which names (by ID or name), or the only one.
func pickStudy(path string, list []study.Study, which string) (study.Study, error) {
	describe := func() string {
		var s []string
		for _, st := range list {
			s = append(s, fmt.Sprintf("%d %q", st.ID, st.Name))
		}
		return strings.Join(s, ", ")
	}
	if which == "" {
		switch len(list) {
		case 0:
			return study.Study{}, fmt.Errorf("%s holds no rating study (emer serve makes them)", path)
		case 1:
			return list[0], nil
		}
		return study.Study{}, fmt.Errorf("%s holds %d rating studies (%s): pick one with --study ID or NAME", path, len(list), describe())
	}
	var found []study.Study
	for _, st := range list {
		if strconv.FormatInt(st.ID, 10) == which || st.Name == which {
			found = append(found, st)
		}
	}
	switch len(found) {
	case 0:
		return study.Study{}, fmt.Errorf("%s holds no study %q (it holds %s)", path, which, describe())
	case 1:
		return found[0], nil
	}
	return study.Study{}, fmt.Errorf("%s holds %d studies called %q: pick one by its ID (%s)", path, len(found), which, describe())
}

// checkJSON is the output of emer build check --json, as far as the
// report reads it.
type checkJSON struct {
	Clips []struct {
		Name   string `json:"name"`
		Claims []struct {
			Verdict string `json:"verdict"`
		} `json:"claims"`
	} `json:"clips"`
	Totals *struct {
		Claims       int      `json:"claims"`
		Supported    int      `json:"supported"`
		Contradicted int      `json:"contradicted"`
		Unverifiable int      `json:"unverifiable"`
		GroundedRate *float64 `json:"grounded_rate"`
	} `json:"totals"`
}

// readReportCheck reads a check file given as [NAME=]FILE, checking that
// its totals add up to its claims.
func readReportCheck(spec string) (report.Check, error) {
	name, path, ok := strings.Cut(spec, "=")
	if !ok {
		path = spec
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if name == "" || path == "" {
		return report.Check{}, usageErrorf("--check %q: want NAME=FILE or FILE", spec)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return report.Check{}, fmt.Errorf("--check: %w", err)
	}
	var cj checkJSON
	if err := json.Unmarshal(b, &cj); err != nil {
		return report.Check{}, fmt.Errorf("%s: %w", path, jsonPosition(b, err))
	}
	if cj.Totals == nil {
		return report.Check{}, fmt.Errorf("%s: no \"totals\": is it the output of emer build check --json?", path)
	}
	c := report.Check{System: name, File: path, Clips: map[string]report.ClaimCounts{}, GroundedRate: cj.Totals.GroundedRate,
		Totals: report.ClaimCounts{Claims: cj.Totals.Claims, Supported: cj.Totals.Supported, Contradicted: cj.Totals.Contradicted, Unverifiable: cj.Totals.Unverifiable}}
	var probs []string
	var sum report.ClaimCounts
	for i, clip := range cj.Clips {
		var cc report.ClaimCounts
		for j, cl := range clip.Claims {
			cc.Claims++
			switch cl.Verdict {
			case "supported":
				cc.Supported++
			case "contradicted":
				cc.Contradicted++
			case "unverifiable":
				cc.Unverifiable++
			default:
				probs = append(probs, fmt.Sprintf("clip %d (%.40q), claim %d: verdict %.20q is none of supported, contradicted, unverifiable", i+1, clip.Name, j+1, cl.Verdict))
			}
		}
		if _, dup := c.Clips[clip.Name]; dup {
			probs = append(probs, fmt.Sprintf("clip %d: %.40q is there twice", i+1, clip.Name))
		}
		c.Clips[clip.Name] = cc
		sum.Claims += cc.Claims
		sum.Supported += cc.Supported
		sum.Contradicted += cc.Contradicted
		sum.Unverifiable += cc.Unverifiable
	}
	if len(probs) == 0 && sum != c.Totals {
		probs = append(probs, fmt.Sprintf("the totals (%d claims: %d supported, %d contradicted, %d unverifiable) are not those of its clips (%d: %d, %d, %d)",
			c.Totals.Claims, c.Totals.Supported, c.Totals.Contradicted, c.Totals.Unverifiable, sum.Claims, sum.Supported, sum.Contradicted, sum.Unverifiable))
	}
	if r := c.GroundedRate; r != nil && !(*r >= 0 && *r <= 1) {
		probs = append(probs, fmt.Sprintf("grounded_rate %v is not between 0 and 1", *r))
	}
	if len(probs) > 0 {
		if len(probs) > 10 {
			probs = append(probs[:10], fmt.Sprintf("and %d more", len(probs)-10))
		}
		return report.Check{}, fmt.Errorf("%s:\n  %s", path, strings.Join(probs, "\n  "))
	}
	return c, nil
}

// reportClips gathers the qualitative section: for each chosen clip, the
// ground truth and subtitle of the first folder's ground-truth file, each
// system's prediction from the file its folder judged, and frames.
func reportClips(ctx context.Context, opts reportOptions, evals []*reportEval, studyClips map[string]study.Clip, warn func(string, ...any)) ([]report.Clip, error) {
	if len(opts.ClipNames) == 0 && opts.Clips == 0 {
		return nil, nil
	}
	tables := map[string]*table.Table{} // by path; nil when unreadable
	read := func(what, path string) *table.Table {
		if t, ok := tables[path]; ok {
			return t
		}
		t, err := readReasons(path)
		if err != nil {
			warn("%s: %v", what, err)
		}
		tables[path] = t
		return t
	}
	var gt *table.Table
	var gtDir string
	for _, e := range evals {
		if e.info != nil {
			gt, gtDir = read("ground truth of "+e.dir, e.info.GT), e.dir
			break
		}
	}
	names := opts.ClipNames
	if len(names) == 0 {
		switch {
		case gt != nil:
			names = gt.Names()
		default:
			names = slices.Sorted(maps.Keys(studyClips))
		}
		names = names[:min(len(names), opts.Clips)]
	} else if gt != nil {
		var unknown []string
		for _, n := range names {
			if _, ok := gt.Lookup(n); !ok {
				unknown = append(unknown, n)
			}
		}
		if len(unknown) > 0 {
			return nil, usageErrorf("--clip: %s: no such sample in the ground truth of %s (%s)", abbreviateNames(unknown, 5), gtDir, gt.Path)
		}
	}

	// Each system's predictions, from the first folder that judged it.
	predPath := map[string]string{}
	for _, e := range evals {
		if e.info == nil {
			continue
		}
		for _, s := range slices.Sorted(maps.Keys(e.eval.Systems)) {
			if _, ok := predPath[s]; !ok && e.info.Systems[s] != "" {
				predPath[s] = e.info.Systems[s]
			}
		}
	}
	texts := map[string]map[string]string{} // system -> sample -> prediction
	predictions := func(s string) map[string]string {
		m, ok := texts[s]
		if !ok {
			if t := read("predictions of "+s, predPath[s]); t != nil {
				m = t.Map(reasonsColumn(t))
			}
			texts[s] = m
		}
		return m
	}
	var gtText, gtSubs map[string]string
	if gt != nil {
		gtText = gt.Map(reasonsColumn(gt))
		if gt.Has("subtitles") {
			gtSubs = gt.Map("subtitles")
		}
	}
	var out []report.Clip
	for _, name := range names {
		c := report.Clip{Name: name, GroundTruth: gtText[name], Subtitle: gtSubs[name], Reasonings: map[string]string{}}
		for _, s := range slices.Sorted(maps.Keys(predPath)) {
			if text, ok := predictions(s)[name]; ok {
				c.Reasonings[s] = text
			}
		}
		sc, inStudy := studyClips[name]
		if c.Subtitle == "" && inStudy {
			c.Subtitle = sc.Subtitles.Text
		}
		path := ""
		switch {
		case opts.Media != "":
			p, err := infer.FindMedia(opts.Media, name)
			if err != nil {
				warn("clip %s: %v", name, err)
			}
			path = p
		case inStudy && sc.Media != "":
			if _, err := os.Stat(sc.Media); err != nil {
				warn("clip %s: the study's media file: %v (give --media DIR)", name, err)
			} else {
				path = sc.Media
			}
		default:
			c.Notes = append(c.Notes, "No frames: give --media DIR to show them.")
		}
		if path != "" {
			if c.Subtitle == "" {
				if subs, err := media.FindSubtitles(ctx, path); err == nil && subs != nil {
					c.Subtitle = subs.Text()
				}
			}
			if opts.Frames > 0 {
				frames, err := reportFrames(ctx, path, opts.Frames)
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					warn("clip %s: frames: %v", name, err)
				}
				c.Frames = frames
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// reportFrames decodes k frames spread over the clip at path, downscaled,
// as JPEG.
func reportFrames(ctx context.Context, path string, k int) ([]report.Frame, error) {
	var out []report.Frame
	err := media.Frames(ctx, path, media.FrameOptions{Count: k, MaxSide: reportFrameSide}, func(f media.Frame) error {
		img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
		for i, j := 0, 0; i+2 < len(f.Pix); i, j = i+3, j+4 {
			img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = f.Pix[i], f.Pix[i+1], f.Pix[i+2], 255
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
			return err
		}
		out = append(out, report.Frame{Time: f.Time, JPEG: buf.Bytes(), Width: f.Width, Height: f.Height})
		return nil
	})
	return out, err
}
