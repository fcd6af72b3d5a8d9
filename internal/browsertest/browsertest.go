// Package browsertest starts Debian's Chromium headless for tests that
// drive a page through chromedp (the rating pages of emer serve, the
// report of emer report). scripts/setup.sh installs the browser; a test
// skips when it is missing or cannot start.
package browsertest

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds a whole browser test, not as an assertion: a browser
// that hangs fails the test instead of the package's timeout.
const Timeout = 2 * time.Minute

// Chromium starts Chromium headless with a fresh profile, a window of
// width × height pixels and no network of its own (no background
// requests, no component updates, no sync), and returns a context of its
// first tab, ended with the test. It skips the test when no Chromium is
// installed or it cannot be started.
func Chromium(t testing.TB, width, height int) context.Context {
	t.Helper()
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium on PATH (make setup installs Debian's chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("mute-audio", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Skipf("chromium (%s) could not be started: %v", bin, err)
	}
	return bctx
}
