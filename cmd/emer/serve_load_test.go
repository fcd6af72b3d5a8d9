package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"emer/internal/pgstore"
	"emer/internal/pgstore/pgtest"
	"emer/internal/store"
	"emer/internal/study"
	"emer/internal/web/webtest"
)

const loadAdminToken = "load-test-admin-token-0123"

// serveChild is emer serve running in a child process (this test binary
// through TestMainProcess).
type serveChild struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	done chan error
}

// startServe starts emer serve on the store of args (--db FILE or --store
// URL) at a free loopback port and returns once it listens.
func startServe(t *testing.T, args ...string) *serveChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(append([]string{"-test.run=^TestMainProcess$", "--", "serve"}, args...), "--addr", "127.0.0.1:0")...)
	cmd.Env = append(os.Environ(), "EMER_TEST_MAIN_PROCESS=1", "EMER_ADMIN_TOKEN="+loadAdminToken)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &serveChild{cmd: cmd, done: make(chan error, 1)}
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) `)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			c.base = m[1]
			break
		}
	}
	go func() {
		io.Copy(io.Discard, out)
		c.done <- cmd.Wait()
	}()
	if c.base == "" {
		err := <-c.done
		t.Fatalf("emer serve did not start: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// loadConfig is a run of raters against emer serve.
type loadConfig struct {
	raters, perRater int
	killAfter        int  // SIGKILL the server after this many acknowledged submissions; 0: never
	postgres         bool // keep the studies in PostgreSQL (a cluster of the test's own) rather than SQLite
}

// ack is a submission the server acknowledged (303): rater, clip and the
// scores sent by position.
type ack struct {
	rater  int
	clip   string
	scores []study.Score
}

// loadResult is what a run measured.
type loadResult struct {
	acks       []ack
	posts      []time.Duration // latency of the acknowledged submissions
	gets       []time.Duration // latency of the rating pages
	wall       time.Duration
	connErrors int
	serverCPU  time.Duration // user and system time of the server while the raters ran; 0 when unknown
}

// processCPU returns the user and system time of process pid so far, its
// children's left out, from /proc (Linux); false where it cannot be read.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	var utime, stime int64
	if _, err := fmt.Sscan(f[11]+" "+f[12], &utime, &stime); err != nil {
		return 0, false
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, true
}

var (
	actionRE = regexp.MustCompile(`action="/r/[A-Za-z0-9_-]{22}/c/([0-9a-f]{16})"`)
	levelRE  = regexp.MustCompile(`name="p\d+" value="1"`)
)

// scoreFor is the score rater gives the reasoning at pos on clip: spread
// over the four levels so that a mix-up shows.
func scoreFor(rater int, clip string, pos int) study.Score {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%s/%d", rater, clip, pos)
	return study.Score(1 + h.Sum32()%4)
}

// runRaters has each rater of links rate until they have done want[i]
// clips, or the server stops answering.
func runRaters(t *testing.T, base string, links []string, want []int, child *serveChild, killAfter int) loadResult {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: len(links) + 4}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var (
		mu     sync.Mutex
		res    loadResult
		acked  atomic.Int64
		killed atomic.Bool
		wg     sync.WaitGroup
	)
	// A bound on the run, not an assertion: a server that hangs ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	do := func(method, u string, form url.Values) (int, string, time.Duration, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequestWithContext(ctx, method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), time.Since(start), err
	}
	start := time.Now()
	for i, link := range links {
		u, _ := url.Parse(link)
		page := base + u.Path
		wg.Go(func() {
			for done := 0; done < want[i]; {
				status, body, d, err := do("GET", page, nil)
				if err != nil {
					mu.Lock()
					res.connErrors++
					mu.Unlock()
					return
				}
				m := actionRE.FindStringSubmatch(body)
				if status != 200 || m == nil {
					t.Errorf("rater %d: page %d, %.200s", i, status, body)
					return
				}
				n := len(levelRE.FindAllString(body, -1))
				form := url.Values{}
				a := ack{rater: i, clip: m[1]}
				for p := range n {
					s := scoreFor(i, m[1], p)
					form.Set(fmt.Sprintf("p%d", p), fmt.Sprint(int(s)))
					a.scores = append(a.scores, s)
				}
				status, body, dp, err := do("POST", base+u.Path+"/c/"+m[1], form)
				if err != nil {
					mu.Lock()
					res.connErrors++
					mu.Unlock()
					return
				}
				if status != http.StatusSeeOther {
					t.Errorf("rater %d: sending clip %s: %d %.200s", i, m[1], status, body)
					return
				}
				done++
				mu.Lock()
				res.acks = append(res.acks, a)
				res.posts = append(res.posts, dp)
				res.gets = append(res.gets, d)
				mu.Unlock()
				if n := acked.Add(1); killAfter > 0 && n >= int64(killAfter) && killed.CompareAndSwap(false, true) {
					child.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	return res
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// loadStore is where a load run keeps its studies: the arguments of emer
// serve, and open, which opens the store read-only for a look.
type loadStore struct {
	args []string
	open func(t *testing.T) (study.Store, func())
}

// newLoadStore makes the store of a load run in dir.
func newLoadStore(t *testing.T, dir string, postgres bool) loadStore {
	t.Helper()
	if postgres {
		url := pgtest.New(t).NewDatabase(t)
		return loadStore{args: []string{"--store", url}, open: func(t *testing.T) (study.Store, func()) {
			s, err := pgstore.Open(context.Background(), url, pgstore.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			return s.Studies(), func() { s.Close() }
		}}
	}
	db := filepath.Join(dir, "study.db")
	return loadStore{args: []string{"--db", db}, open: func(t *testing.T) (study.Store, func()) {
		s, err := store.OpenReadOnly(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		st := store.NewStudies(s)
		return st, func() { st.Close(); s.Close() }
	}}
}

// storedAcks returns the completions in the store as acks, rater by
// invite order.
func storedAcks(t *testing.T, where loadStore, links []string) []ack {
	t.Helper()
	ctx := context.Background()
	st, done := where.open(t)
	defer done()
	svc := study.NewService(st, 0, nil)
	byToken := map[[32]byte]int{}
	for i, l := range links {
		byToken[study.HashToken(l[strings.LastIndex(l, "/")+1:])] = i
	}
	rs, err := svc.Ratings(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []ack
	idx := map[string]int{}
	for _, r := range rs {
		key := fmt.Sprintf("%d/%s", r.Rater.ID, r.Clip.ID)
		j, ok := idx[key]
		if !ok {
			j = len(out)
			idx[key] = j
			out = append(out, ack{rater: byToken[r.Rater.TokenHash], clip: r.Clip.ID})
		}
		if r.Position != len(out[j].scores) {
			t.Fatalf("ratings of %s out of order", key)
		}
		out[j].scores = append(out[j].scores, r.Score)
	}
	return out
}

func sortAcks(as []ack) []ack {
	return slices.SortedFunc(slices.Values(as), func(a, b ack) int {
		if a.rater != b.rater {
			return a.rater - b.rater
		}
		return strings.Compare(a.clip, b.clip)
	})
}

// loadRun runs cfg against emer serve in a child process; with killAfter
// it kills the server mid-run, checks that every acknowledged submission
// is in the store, restarts it on the same database and lets the raters
// finish. Every rater rates every clip.
func loadRun(t *testing.T, cfg loadConfig) loadResult {
	dir := t.TempDir()
	files := webtest.Files(t, dir, cfg.perRater, "alpha", "beta")
	where := newLoadStore(t, dir, cfg.postgres)
	child := startServe(t, where.args...)
	_, links := webtest.Make(t, webtest.Client(), child.base, loadAdminToken, "load", files, cfg.raters, cfg.raters)
	want := make([]int, cfg.raters)
	for i := range want {
		want[i] = cfg.perRater
	}
	cpu0, ok0 := processCPU(child.cmd.Process.Pid)
	res := runRaters(t, child.base, links, want, child, cfg.killAfter)
	if cpu1, ok1 := processCPU(child.cmd.Process.Pid); ok0 && ok1 && cfg.killAfter == 0 {
		res.serverCPU = cpu1 - cpu0
	}
	if t.Failed() {
		t.FailNow()
	}
	if cfg.killAfter > 0 {
		err := <-child.done
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the server ended with %v, want killed by SIGKILL", err)
		}
		if len(res.acks) >= cfg.raters*cfg.perRater {
			t.Fatalf("all %d submissions were acknowledged before the kill", len(res.acks))
		}
		got, ack0 := storedAcks(t, where, links), sortAcks(res.acks)
		stored := map[string]ack{}
		for _, a := range got {
			stored[fmt.Sprintf("%d/%s", a.rater, a.clip)] = a
		}
		for _, a := range ack0 {
			s, ok := stored[fmt.Sprintf("%d/%s", a.rater, a.clip)]
			if !ok {
				t.Errorf("rater %d, clip %s: acknowledged before the kill, not in the store", a.rater, a.clip)
			} else if diff := cmp.Diff(a.scores, s.scores); diff != "" {
				t.Errorf("rater %d, clip %s: scores (-sent +stored):\n%s", a.rater, a.clip, diff)
			}
		}
		t.Logf("killed after %d acknowledged submissions; %d in the store (in-flight ones may be too); %d requests cut off", len(ack0), len(got), res.connErrors)
		// Restarted on the same database, the raters finish.
		child = startServe(t, where.args...)
		left := make([]int, cfg.raters)
		for i := range left {
			left[i] = cfg.perRater
		}
		for _, a := range got {
			left[a.rater]--
		}
		more := runRaters(t, child.base, links, left, child, 0)
		res.acks = append(res.acks, more.acks...)
	}
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := <-child.done
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Errorf("the server after SIGTERM: %v, want exit status 143", err)
	}
	got := sortAcks(storedAcks(t, where, links))
	if len(got) != cfg.raters*cfg.perRater {
		t.Errorf("%d completions in the store, want %d", len(got), cfg.raters*cfg.perRater)
	}
	// Every acknowledged submission is stored with the scores sent; those
	// of the kill's in-flight requests may be stored unacknowledged.
	stored := map[string]ack{}
	for _, a := range got {
		stored[fmt.Sprintf("%d/%s", a.rater, a.clip)] = a
	}
	for _, a := range res.acks {
		s, ok := stored[fmt.Sprintf("%d/%s", a.rater, a.clip)]
		if !ok {
			t.Errorf("rater %d, clip %s: acknowledged, not in the store", a.rater, a.clip)
		} else if diff := cmp.Diff(a.scores, s.scores); diff != "" {
			t.Errorf("rater %d, clip %s: scores (-sent +stored):\n%s", a.rater, a.clip, diff)
		}
	}
	return res
}

// TestServeKilled kills emer serve while raters submit: every submission
// acknowledged before the kill is in the store, and after a restart on
// the same database the raters finish the study.
func TestServeKilled(t *testing.T) {
	loadRun(t, loadConfig{raters: 8, perRater: 5, killAfter: 15})
}

// TestServeLoad is the load test: 50 raters at once submitting 20 ratings
// each on loopback, then the same with the server killed mid-run. It runs
// only with EMER_TEST_LOAD=1, and reports throughput and latencies.
//
//	EMER_TEST_LOAD=1 go test ./cmd/emer -run TestServeLoad -v
func TestServeLoad(t *testing.T) {
	if os.Getenv("EMER_TEST_LOAD") != "1" {
		t.Skip("the load test runs with EMER_TEST_LOAD=1")
	}
	serveLoad(t, false)
}

// TestServeLoadPostgres is TestServeLoad with the studies in PostgreSQL
// (emer serve --store postgres://...), on a cluster of its own on this
// machine.
//
//	EMER_TEST_LOAD=1 go test ./cmd/emer -run TestServeLoadPostgres -v
func TestServeLoadPostgres(t *testing.T) {
	if os.Getenv("EMER_TEST_LOAD") != "1" {
		t.Skip("the load test runs with EMER_TEST_LOAD=1")
	}
	serveLoad(t, true)
}

func serveLoad(t *testing.T, postgres bool) {
	t.Run("throughput", func(t *testing.T) {
		res := loadRun(t, loadConfig{raters: 50, perRater: 20, postgres: postgres})
		rate := float64(len(res.acks)) / res.wall.Seconds()
		t.Logf("%d submissions by 50 raters in %v: %.0f submissions/s; submission latency p50 %v, p99 %v, max %v; rating page p99 %v",
			len(res.acks), res.wall.Round(time.Millisecond), rate, percentile(res.posts, 50), percentile(res.posts, 99), percentile(res.posts, 100), percentile(res.gets, 99))
		// The server's own CPU time, which the machine's other load does
		// not inflate much (at 10 ms a tick).
		if res.serverCPU > 0 {
			t.Logf("server CPU time while the raters ran: %v, %.2f ms per submission with its rating page", res.serverCPU,
				float64(res.serverCPU.Microseconds())/1000/float64(len(res.acks)))
		}
	})
	t.Run("killed mid-run", func(t *testing.T) {
		loadRun(t, loadConfig{raters: 50, perRater: 20, killAfter: 400, postgres: postgres})
	})
}
