package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/web/webtest"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// served is a runServe started by serveInProcess.
type served struct {
	base           string // http://ADDR it listens on
	stdout, stderr *lockedBuffer
	done           chan error // runServe's error, once it returns
}

// serveInProcess runs runServe with opts on a free loopback port until ctx
// ends, and returns once the server listens.
func serveInProcess(t *testing.T, ctx context.Context, opts serveOptions) *served {
	t.Helper()
	s := &served{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	ready := make(chan string, 1)
	opts.Addr, opts.Stdout, opts.Stderr = "127.0.0.1:0", s.stdout, s.stderr
	opts.ready = func(addr string) { ready <- addr }
	go func() { s.done <- runServe(ctx, opts) }()
	select {
	case addr := <-ready:
		s.base = "http://" + addr
	case err := <-s.done:
		t.Fatalf("runServe: %v\n%s", err, s.stderr.String())
	}
	return s
}

var printedToken = regexp.MustCompile(`admin token, shown once \(set admin_token or EMER_ADMIN_TOKEN to keep one\): ([A-Za-z0-9_-]{22})\n`)

// TestServe runs a study through runServe: the printed token opens the
// organizer's pages, a rating is in the database, and cancelling the
// context stops the server.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	files := webtest.Files(t, dir, 2, "alpha", "beta")
	db := filepath.Join(dir, "study.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sv := serveInProcess(t, ctx, serveOptions{DB: db, Hold: study.DefaultHold})
	base, stdout, stderr, done := sv.base, sv.stdout, sv.stderr, sv.done
	m := printedToken.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no admin token printed:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "listening on "+base+" (organizer: "+base+"/admin/login)") {
		t.Errorf("stdout does not say where it listens:\n%s", stdout.String())
	}
	c := webtest.Client()
	_, links := webtest.Make(t, c, base, m[1], "study", files, 1, 1)
	resp, body := webtest.Do(t, c, "GET", links[0], "", nil)
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || action == nil {
		t.Fatalf("rating page: %s\n%s", resp.Status, body)
	}
	resp, _ = webtest.Do(t, c, "POST", base+action[1], "", map[string][]string{"p0": {"1"}, "p1": {"2"}, "p2": {"3"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sending: %s", resp.Status)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("runServe after cancel: %v, want context.Canceled\n%s", err, stderr.String())
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("the server still answers after runServe returned")
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := store.NewStudies(s)
	defer st.Close()
	rs, err := study.NewService(st, 0, nil).Ratings(context.Background(), 1)
	if err != nil || len(rs) != 3 {
		t.Errorf("%d ratings in the database (%v), want 3", len(rs), err)
	}
}

func TestServeUsage(t *testing.T) {
	clearConfigEnv(t)
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"no db", []string{"serve"}, "", "give the store of the studies: --db FILE (SQLite, made if missing) or --store postgres://USER@HOST/DB (or $EMER_STORE)"},
		{"db and store", []string{"serve", "--db", db, "--store", "sqlite:" + db}, "", "give --db FILE or --store, not both (--db FILE is --store sqlite:FILE)"},
		{"bad store", []string{"serve", "--store", "mysql://h/db"}, "", `store: "mysql":// names no kind of store emer knows`},
		{"review of a run with db", []string{"serve", "--db", db, "--review", "summarize:/runs/a"}, "",
			"--review summarize:/runs/a names a run of emer build summarize in a PostgreSQL store: give that store as --store postgres://..., or with --db the store of summarize's folder, DIR/emer.db"},
		{"cert without key", []string{"serve", "--db", db, "--tls-cert", "c.pem"}, "", "give both --tls-cert and --tls-key"},
		{"short hold", []string{"serve", "--db", db, "--hold", "10s"}, "", "--hold 10s: want a minute or more"},
		{"short admin token", []string{"serve", "--db", db}, "short", "admin_token has 5 characters: want 16 or more"},
		{"argument", []string{"serve", "--db", db, "extra"}, "", `unknown command "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EMER_ADMIN_TOKEN", tc.env)
			var stderr bytes.Buffer
			code := execute(context.Background(), tc.args, io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
