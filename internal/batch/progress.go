package batch

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress is told how a run advances. Implementations are safe for
// concurrent use.
type Progress interface {
	// Start begins a run of total items described by desc.
	Start(desc string, total int)
	// Advance counts n more items done.
	Advance(n int)
	// Finish ends the run's report.
	Finish()
}

// Silent reports nothing.
type Silent struct{}

func (Silent) Start(string, int) {}
func (Silent) Advance(int)       {}
func (Silent) Finish()           {}

// NewProgress returns a bar when w is a terminal and plain lines (Lines)
// otherwise.
func NewProgress(w io.Writer) Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &Bar{w: w}
	}
	return &Lines{W: w}
}

// Bar draws a progress bar with a count and the predicted time left.
type Bar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (b *Bar) Start(desc string, total int) {
	if total == 0 {
		return
	}
	b.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func (b *Bar) Advance(n int) {
	if b.bar != nil {
		_ = b.bar.Add(n)
	}
}

func (b *Bar) Finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// Lines writes a line each time another tenth of the run is done, for logs
// and pipes where a bar would be noise: "judging: 120/400 (30%)".
type Lines struct {
	W io.Writer

	mu          sync.Mutex
	desc        string
	total, done int
	step        int // tenths already reported
}

func (l *Lines) Start(desc string, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.desc, l.total, l.done, l.step = desc, total, 0, 0
	if total > 0 {
		fmt.Fprintf(l.W, "%s: %d to do\n", desc, total)
	}
}

func (l *Lines) Advance(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done += n
	if l.total == 0 {
		return
	}
	if s := l.done * 10 / l.total; s > l.step {
		l.step = s
		fmt.Fprintf(l.W, "%s: %d/%d (%d%%)\n", l.desc, l.done, l.total, l.done*100/l.total)
	}
}

func (l *Lines) Finish() {}
