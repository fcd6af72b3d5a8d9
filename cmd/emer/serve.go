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
	"time"

	"github.com/spf13/cobra"

	"emer/internal/config"
	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/web"
)

func init() { register(newServeCmd) }

// serveOptions are the inputs of runServe.
type serveOptions struct {
	DB      string
	Addr    string
	Hold    time.Duration
	TLSCert string
	TLSKey  string
	Verbose bool
	Config  config.Config // admin_token

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
		Use:   "serve --db FILE [--addr 127.0.0.1:8080]",
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
committed to --db before the page answers. SIGINT or SIGTERM stops the
server after the requests in flight (at most 1.5 s).

Nothing a rater's browser receives names a system or a file. Serve on a
loopback address, or give --tls-cert and --tls-key (or put a TLS proxy in
front) when raters come over a network.

Examples:
  emer serve --db study.db
  EMER_ADMIN_TOKEN=$(cat token) emer serve --db study.db --addr :8443 --tls-cert cert.pem --tls-key key.pem

`,
		Args: cobra.NoArgs,
	}
	b := config.Bind(cmd.Flags(), "admin_token")
	cmd.Long += b.Help()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := b.Resolve(config.ProcessEnv)
		if err != nil {
			return usageErrorf("%v", err)
		}
		if (opts.TLSCert == "") != (opts.TLSKey == "") {
			return usageErrorf("give both --tls-cert and --tls-key, or neither")
		}
		if opts.Hold < time.Minute {
			return usageErrorf("--hold %v: want a minute or more", opts.Hold)
		}
		opts.Config = cfg
		opts.Stdout, opts.Stderr = g.stdout, g.stderr
		return runServe(cmd.Context(), opts)
	}
	f := cmd.Flags()
	f.StringVar(&opts.DB, "db", "", "SQLite file of the studies and ratings (made if missing)")
	f.StringVar(&opts.Addr, "addr", opts.Addr, "address to listen on, host:port")
	f.DurationVar(&opts.Hold, "hold", opts.Hold, "how long a clip handed to a rater stays theirs; then it may go to another")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS")
	f.StringVar(&opts.TLSKey, "tls-key", "", "PEM key file of --tls-cert")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log every request (rater tokens left out)")
	cmd.MarkFlagRequired("db")
	return cmd
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
	db, err := store.Open(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	studies := store.NewStudies(db)
	defer studies.Close()
	svc := study.NewService(studies, opts.Hold, nil)

	token, fresh := opts.Config.AdminToken, false
	if token == "" {
		token, fresh = newAdminToken(), true
	}
	srv, err := web.New(web.Options{Service: svc, AdminToken: token, Log: log})
	if err != nil {
		return err
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
