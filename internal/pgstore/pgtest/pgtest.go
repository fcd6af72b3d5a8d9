// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb
// into a temporary folder, the server on a free loopback port with its
// unix socket in that folder, removed when the test (or the package's
// TestMain) ends. As root, the cluster is made and run as the postgres
// user (or nobody), since initdb refuses root. A test is skipped, with a
// message saying why, only where no cluster can be started: PostgreSQL
// is not installed, or there is no user to run it as.
package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"emer/internal/pgstore"
)

// Cluster is a running (or stopped) throwaway PostgreSQL cluster.
type Cluster struct {
	bin  string // folder of initdb, pg_ctl and postgres
	dir  string // holds data/, the socket and the log; removed by Remove
	port int
	uid  int // the user the server runs as; -1: this process's
	gid  int

	mu      sync.Mutex
	running bool
	dbs     atomic.Int64

	tmplOnce sync.Once
	tmplErr  error
}

// binDir finds the folder of pg_ctl: on PATH, or Debian's
// /usr/lib/postgresql/VERSION/bin (the newest), which is not on PATH.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				real = p
			}
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb and pg_ctl on PATH nor under /usr/lib/postgresql/*/bin: install Debian's postgresql package (scripts/setup.sh does)")
}

// New makes and starts a cluster of its own for t, removed when t ends.
func New(t testing.TB) *Cluster {
	t.Helper()
	c, err := start()
	if err != nil {
		if _, ok := err.(skipError); ok {
			t.Skipf("pgtest: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(c.Remove)
	return c
}

// skipError is why no cluster can be had on this machine at all.
type skipError struct{ error }

func start() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, skipError{err}
	}
	c := &Cluster{bin: bin, uid: -1, gid: -1}
	if os.Geteuid() == 0 {
		var u *user.User
		for _, name := range []string{"postgres", "nobody"} {
			if u, err = user.Lookup(name); err == nil {
				break
			}
		}
		if u == nil {
			return nil, skipError{fmt.Errorf("running as root and neither user postgres nor nobody exists to run PostgreSQL as (initdb refuses root)")}
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			return nil, skipError{fmt.Errorf("running as root and no runuser to start PostgreSQL as %s with: %v", u.Username, err)}
		}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
	}
	// A folder of its own under the system's temporary folder, which every
	// user can reach (a test's TempDir is not reachable by another user).
	if c.dir, err = os.MkdirTemp("", "emer-pg-"); err != nil {
		return nil, err
	}
	if c.uid >= 0 {
		if err := os.Chown(c.dir, c.uid, c.gid); err != nil {
			c.Remove()
			return nil, err
		}
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "emer", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		c.Remove()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		c.Remove()
		return nil, err
	}
	if err := c.Start(); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs one of the cluster's programs as the cluster's user.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.uid >= 0 {
		u, err := user.LookupId(strconv.Itoa(c.uid))
		if err != nil {
			return nil, err
		}
		cmd = exec.Command("runuser", append([]string{"-u", u.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the cluster's server, stopped by Stop, on the port it had.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	opts := strings.Join([]string{
		"-p", strconv.Itoa(c.port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300",
		// A throwaway cluster: nothing needs to survive a crash of the machine.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
	}, " ")
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	c.running = true
	return nil
}

// Stop stops the server at once (pg_ctl -m fast: clients are disconnected,
// as when a database server restarts), keeping its data.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	c.running = false
	return nil
}

// Remove stops the server and removes the cluster's folder.
func (c *Cluster) Remove() {
	if c.dir == "" {
		return
	}
	_ = c.Stop()
	_ = os.RemoveAll(c.dir)
}

// URL returns the URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://emer@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// NewEmptyDatabase makes an empty database on the cluster and returns
// its URL.
func (c *Cluster) NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return c.createDatabase(t, "")
}

// NewDatabase makes a database with emer's schema (River's and emer's
// migrations applied) on the cluster and returns its URL. It is a copy of
// a template migrated once per cluster, which is quicker than migrating.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	c.tmplOnce.Do(func() {
		url := c.URL("emer_template")
		if err := c.exec("CREATE DATABASE emer_template"); err != nil {
			c.tmplErr = err
			return
		}
		s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
		if err != nil {
			c.tmplErr = err
			return
		}
		s.Close()
	})
	if c.tmplErr != nil {
		t.Fatalf("pgtest: template database: %v", c.tmplErr)
	}
	return c.createDatabase(t, "emer_template")
}

func (c *Cluster) createDatabase(t testing.TB, template string) string {
	t.Helper()
	name := fmt.Sprintf("t%d", c.dbs.Add(1))
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	if err := c.exec(q); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return c.URL(name)
}

// exec runs one statement on the cluster's postgres database.
func (c *Cluster) exec(q string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, q)
	return err
}

var shared struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Shared returns the package's cluster, started at the first call and
// removed by Main; tests isolate themselves with NewDatabase.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(func() { shared.c, shared.err = start() })
	if shared.err != nil {
		if _, ok := shared.err.(skipError); ok {
			t.Skipf("pgtest: %v", shared.err)
		}
		t.Fatalf("pgtest: %v", shared.err)
	}
	return shared.c
}

// Main runs the tests of a package that uses Shared and removes the
// shared cluster after: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.c != nil {
		shared.c.Remove()
	}
	return code
}
