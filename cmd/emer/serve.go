package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"emer/internal/config"
	"emer/internal/pgstore"
	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/web"
)

func init() { register(newServeCmd) }

// serveOptions are the inputs of runServe.
type serveOptions struct {
	// DB is the SQLite file of the studies and ratings (--db); when it is
	// empty, Config.Store names the store, an SQLite file or a PostgreSQL
	// database.
	DB      string
	Addr    string
	Hold    time.Duration
	TLSCert string
	TLSKey  string
	Verbose bool
	Config  config.Config // admin_token, store

	// Review is what emer build summarize made whose descriptions are
	// reviewed; empty: none. With an SQLite store it is summarize's own
	// store (DIR/emer.db); with a PostgreSQL store, the name of a run of
	// summarize in it (summarize:ABSOLUTE-OUT, its --run NAME) or the
	// run's output folder. ReviewClips, ReviewDataset and ReviewCheck are
	// its clips folder, subtitles CSV and a grounding check to load at
	// start.
	Review        string
	ReviewClips   string
	ReviewDataset string
	ReviewCheck   string

	Stdout, Stderr io.Writer

	// ready, when set, is called with the address listened on once the
	// server accepts connections.
	ready func(addr string)
}

// shutdownGrace is how long runServe lets requests in flight finish after
// its context ends; it is below signalGrace, after which the process ends.
const shutdownGrace = 1500 * time.Millisecond

func newServeCmd(g *globalOptions) *cobra.Command {
	opts := serveOptions{Addr: "127.0.0.1:8080", Hold: study.DefaultHold}
	cmd := &cobra.Command{
		Use:   "serve (--db FILE | --store postgres://USER@HOST/DB) [--addr 127.0.0.1:8080]",
		Short: "Run blind human rating studies of emotion reasoning in the browser",
		Long: `serve runs the EMER human evaluation as a web app: raters judge each clip's
candidate reasonings (the ground truth shuffled among the systems'
predictions, so that nobody can tell which is which) as 1 completely wrong,
2 correct in a small part, 3 correct for the most part or 4 completely
correct; five raters per clip by default.

The organizer logs in at /admin/login with the admin token (printed at
start, or admin_token in the config file or $EMER_ADMIN_TOKEN), makes a
study from a folder of clips, the ground-truth CSV and one predictions CSV
per system (all on this machine), invites raters (each gets a secret link;
only its hash is stored), follows the progress and downloads the ratings as
CSV. Each rater gets the least-rated clip they have not rated, kept for
them for --hold; a clip never gets more raters than its target. A rating is
committed to the store before the page answers. SIGINT or SIGTERM stops the
server after the requests in flight (at most 1.5 s).

The studies and ratings are kept in --db FILE, an SQLite file made if
missing (--store sqlite:FILE is the same), or, with --store
postgres://USER@HOST/DB (or EMER_STORE, or store in the config file), in a
PostgreSQL database, where emer report --store finds them and where any
number of emer serve processes (with the same admin token) may serve the
same studies at once: a clip is held for the rater whichever process they
reach, and no clip gets more raters than its target. Schema migrations run
at start. While the database cannot be reached (a lost connection, a
restart) a page waits for it, up to 10 minutes, rather than failing.

Nothing a rater's browser receives names a system or a file. Serve on a
loopback address, or give --tls-cert and --tls-key (or put a TLS proxy in
front) when raters come over a network.

With --review DIR/emer.db (the store of emer build summarize) it also
serves the review of the descriptions summarize made: at /admin/review the
organizer invites reviewers by name (each gets a secret link; only its
hash is stored), uploads the output of emer build check --json, and
downloads the review CSV. A reviewer's link lists the descriptions,
pending first, with filters; the page of one shows the clip's video and
subtitle (from --review-clips, as a study's clips folder, and
--review-dataset, an EMER CSV with a subtitles column), the description,
the grounding check's verdict and evidence beside each claim, and the
history of changes. The reviewer accepts the draft, saves an edited text or
rejects it with a note; the change, with the reviewer's name and the time,
is committed to the store before the page answers, where emer build review
--export finds it. A change made from a page that is no longer current
(summarize or another reviewer changed the description since) is refused
and shown with the description as it stands.

With --store postgres://..., --review names a run of emer build summarize
--store postgres://... in the same database: summarize:/ABSOLUTE/OUT (its
name unless its --run gave another), that NAME, or its output folder OUT.
The review of each run is kept apart from the others', its reviewers too.

Examples:
  emer serve --db study.db
  EMER_ADMIN_TOKEN=$(cat token) emer serve --db study.db --addr :8443 --tls-cert cert.pem --tls-key key.pem
  emer serve --db study.db --review runs/summary/emer.db --review-clips clips/ --review-check check.json
  emer serve --store postgres://emer@db.lab/emer --review summarize:/data/runs/summary --review-clips clips/

`,
		Args: cobra.NoArgs,
	}
	b := config.Bind(cmd.Flags(), "admin_token", "store").ShowDefault("store", "--db FILE")
	cmd.Long += b.Help()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := b.Resolve(config.ProcessEnv)
		if err != nil {
			return usageErrorf("%v", err)
		}
		switch {
		case opts.DB != "" && cmd.Flags().Changed("store"):
			return usageErrorf("give --db FILE or --store, not both (--db FILE is --store sqlite:FILE)")
		case opts.DB != "":
			// The flag wins over a store of the environment or the config
			// file, as flags do.
			cfg.Store = config.Store{}
		case cfg.Store.IsZero():
			return usageErrorf("give the store of the studies: --db FILE (SQLite, made if missing) or --store postgres://USER@HOST/DB (or $EMER_STORE)")
		}
		if err := checkServeReview(opts.Review, opts.DB != "" || cfg.Store.Driver == config.DriverSQLite); err != nil {
			return err
		}
		if (opts.TLSCert == "") != (opts.TLSKey == "") {
			return usageErrorf("give both --tls-cert and --tls-key, or neither")
		}
		if opts.Hold < time.Minute {
			return usageErrorf("--hold %v: want a minute or more", opts.Hold)
		}
		if opts.Review == "" && (opts.ReviewClips != "" || opts.ReviewDataset != "" || opts.ReviewCheck != "") {
			return usageErrorf("--review-clips, --review-dataset and --review-check need --review (DIR/emer.db, or a run of a postgres:// store)")
		}
		opts.Config = cfg
		opts.Stdout, opts.Stderr = g.stdout, g.stderr
		return runServe(cmd.Context(), opts)
	}
	f := cmd.Flags()
	f.StringVar(&opts.DB, "db", "", "SQLite file of the studies and ratings (made if missing); or give --store")
	f.StringVar(&opts.Addr, "addr", opts.Addr, "address to listen on, host:port")
	f.DurationVar(&opts.Hold, "hold", opts.Hold, "how long a clip handed to a rater stays theirs; then it may go to another")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	f.StringVar(&opts.TLSKey, "tls-key", "", "PEM key file of --tls-cert")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log every request (rater and reviewer tokens left out)")
	f.StringVar(&opts.Review, "review", "", "review the descriptions of emer build summarize: its store DIR/emer.db, or with a postgres:// store its run there (summarize:/ABSOLUTE/OUT, NAME or OUT)")
	f.StringVar(&opts.ReviewClips, "review-clips", "", "with --review: folder of the clips' media files, named after them (NAME.mp4, NAME.srt, ...)")
	f.StringVar(&opts.ReviewDataset, "review-dataset", "", "with --review: EMER CSV of names and subtitles, shown with each clip")
	f.StringVar(&opts.ReviewCheck, "review-check", "", "with --review: the output of emer build check --json to load at start")
	// The setting's own words are those of a run's results.
	if fl := f.Lookup("store"); fl != nil {
		fl.Usage, fl.DefValue = "the studies and ratings: sqlite:FILE, as --db FILE, or postgres://USER@HOST/DB shared by emer serve processes ($EMER_STORE)", ""
	}
	return cmd
}

// checkServeReview refuses a --review that names a run of a shared store
// while the studies are in an SQLite file.
func checkServeReview(review string, sqlite bool) error {
	if !sqlite || !strings.HasPrefix(review, "summarize:") {
		return nil
	}
	if _, err := os.Stat(review); err == nil {
		return nil // a file of that name
	}
	return usageErrorf("--review %s names a run of emer build summarize in a PostgreSQL store: give that store as --store postgres://..., or with --db the store of summarize's folder, DIR/emer.db", review)
}

// openReviewStore opens the store of --review: studies, the store of
// --db, when it is the same file, else the file, which must exist.
func openReviewStore(ctx context.Context, path string, studies *store.Store) (*store.Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--review: %w (the store emer build summarize made, DIR/emer.db)", err)
	}
	if si, err := os.Stat(studies.Path()); err == nil && os.SameFile(fi, si) {
		return studies, nil
	}
	return store.Open(ctx, path)
}

// newAdminToken returns a random 128-bit token.
func newAdminToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func runServe(ctx context.Context, opts serveOptions) error {
	level := slog.LevelInfo
	if opts.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: level}))
	where := opts.Config.Store
	if opts.DB != "" {
		where = config.Store{Driver: config.DriverSQLite, Path: opts.DB}
	}
	var (
		studies study.Store
		review  *web.ReviewOptions
	)
	switch where.Driver {
	case config.DriverPostgres:
		st, err := pgstore.Open(ctx, where.URL, pgstore.Options{Log: log})
		if err != nil {
			return err
		}
		defer st.Close()
		studies = st.Studies()
		if opts.Review != "" {
			run, err := sharedReviewRun(ctx, st, opts.Review, "--review")
			if err != nil {
				return err
			}
			review = &web.ReviewOptions{Store: st.Reviews(run), Name: run + " in " + st.Name()}
		}
	case config.DriverSQLite:
		db, err := store.Open(ctx, where.Path)
		if err != nil {
			return err
		}
		defer db.Close()
		sq := store.NewStudies(db)
		defer sq.Close()
		studies = sq
		if opts.Review != "" {
			rdb, err := openReviewStore(ctx, opts.Review, db)
			if err != nil {
				return err
			}
			if rdb != db {
				defer rdb.Close()
			}
			review = &web.ReviewOptions{Store: store.NewReviews(rdb), Name: opts.Review}
		}
	default:
		return usageErrorf("give the store of the studies: --db FILE or --store postgres://USER@HOST/DB")
	}
	svc := study.NewService(studies, opts.Hold, nil)
	if review != nil {
		review.Clips, review.Dataset = opts.ReviewClips, opts.ReviewDataset
	}

	token, fresh := opts.Config.AdminToken, false
	if token == "" {
		token, fresh = newAdminToken(), true
	}
	srv, err := web.New(web.Options{Service: svc, AdminToken: token, Log: log, Review: review})
	if err != nil {
		return err
	}
	if opts.ReviewCheck != "" {
		msg, err := srv.LoadCheckFile(ctx, opts.ReviewCheck)
		if err != nil {
			return fmt.Errorf("--review-check: %w", err)
		}
		fmt.Fprintf(opts.Stderr, "emer serve: %s\n", msg)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	scheme := "http"
	if opts.TLSCert != "" {
		scheme = "https"
	}
	addr := ln.Addr().String()
	fmt.Fprintf(opts.Stdout, "emer serve: listening on %s://%s (organizer: %s://%s/admin/login)\n", scheme, addr, scheme, addr)
	fmt.Fprintf(opts.Stdout, "emer serve: studies and ratings in %s\n", where)
	if review != nil {
		fmt.Fprintf(opts.Stdout, "emer serve: reviewing the descriptions of %s (organizer: %s://%s/admin/review)\n", review.Name, scheme, addr)
	}
	if fresh {
		fmt.Fprintf(opts.Stdout, "emer serve: admin token, shown once (set admin_token or EMER_ADMIN_TOKEN to keep one): %s\n", token)
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && scheme == "http" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			log.Warn("serving plain HTTP beyond this machine: invite links and the admin token cross the network unencrypted; give --tls-cert and --tls-key or put a TLS proxy in front", "addr", addr)
		}
	}

	errc := make(chan error, 1)
	go func() {
		if opts.TLSCert != "" {
			errc <- hs.ServeTLS(ln, opts.TLSCert, opts.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	if opts.ready != nil {
		opts.ready(addr)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err = hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
		log.Warn("requests still in flight at shutdown were cut off", "err", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", addr, err)
	}
	log.Info("stopped")
	return ctx.Err()
}
