// Package webtest makes the files of a rating study for tests: tiny
// clips made with ffmpeg (a test pattern and a sine tone), EMER CSV files
// and a study made and invited through the organizer's pages.
package webtest

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Clips writes NAME.mp4 into dir for each name: one second of ffmpeg's
// test pattern at 160×120 with a tone, H.264 and AAC. It skips the test
// when ffmpeg is not installed.
func Clips(t testing.TB, dir string, names ...string) {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg is not installed (make setup installs it): no clips to serve")
	}
	for i, n := range names {
		out := filepath.Join(dir, n+".mp4")
		cmd := exec.Command(bin, "-nostdin", "-v", "error", "-y",
			"-f", "lavfi", "-i", fmt.Sprintf("testsrc=duration=1:size=160x120:rate=10"),
			"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:duration=1", 300+40*i),
			"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", out, err, b)
		}
	}
}

// WriteCSV writes rows under header to path.
func WriteCSV(t testing.TB, path string, header []string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Study is the files of a study: the clips folder, the ground truth and
// the predictions, as the organizer's form takes them.
type Study struct {
	Dir         string
	Clips       []string // names
	GroundTruth string
	Predictions map[string]string // system -> file
}

// Files writes n clips named clipNNN (with the ground truth and a
// prediction of each system, every text naming its clip and source) and
// the CSV files into dir. The first clip gets a sidecar .srt file.
func Files(t testing.TB, dir string, n int, systems ...string) Study {
	t.Helper()
	s := Study{Dir: filepath.Join(dir, "clips"), GroundTruth: filepath.Join(dir, "gt.csv"), Predictions: map[string]string{}}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var gt [][]string
	for i := range n {
		name := fmt.Sprintf("clip%03d", i)
		s.Clips = append(s.Clips, name)
		gt = append(gt, []string{name, "He says hello, number " + fmt.Sprint(i) + ".", GroundTruthText(name)})
	}
	Clips(t, s.Dir, s.Clips...)
	if n > 0 {
		srt := "1\n00:00:00,000 --> 00:00:00,900\nTom & Jerry say 2 < 3\n"
		if err := os.WriteFile(filepath.Join(s.Dir, s.Clips[0]+".srt"), []byte(srt), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	WriteCSV(t, s.GroundTruth, []string{"names", "subtitles", "reasons"}, gt)
	for _, sys := range systems {
		var rows [][]string
		for _, c := range s.Clips {
			rows = append(rows, []string{c, PredictionText(sys, c)})
		}
		p := filepath.Join(dir, "pred-"+sys+".csv")
		WriteCSV(t, p, []string{"names", "reasons"}, rows)
		s.Predictions[sys] = p
	}
	return s
}

// tag stands for a name in a text without spelling it.
func tag(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:4])
}

// GroundTruthText is the ground truth of clip in Files. It does not
// contain the clip's name.
func GroundTruthText(clip string) string {
	return "In video " + tag(clip) + ", he smiles. Therefore, it is inferred that his emotional state is happy."
}

// PredictionText is system's prediction of clip in Files. It does not
// contain the system's name.
func PredictionText(system, clip string) string {
	return "Prediction " + tag(system) + " for video " + tag(clip) + ": he frowns; he is sad."
}

// Client is an HTTP client of a server under test that follows no
// redirects.
func Client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Do sends a request with the admin token as bearer (when token is not
// empty) and returns the status and body.
func Do(t testing.TB, c *http.Client, method, u, token string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var (
	studyLink  = regexp.MustCompile(`/admin/studies/(\d+)"`)
	inviteLink = regexp.MustCompile(`https?://[^/<"]+/r/[A-Za-z0-9_-]{22}`)
)

// Make makes a study of files with target raters per clip through the
// organizer's form, invites raters through the study page, and returns
// the study's page and the invite links.
func Make(t testing.TB, c *http.Client, base, token, name string, files Study, target, raters int) (studyURL string, links []string) {
	t.Helper()
	var preds []string
	for sys, p := range files.Predictions {
		preds = append(preds, sys+"="+p)
	}
	resp, body := Do(t, c, "POST", base+"/admin/studies", token, url.Values{
		"name": {name}, "clips": {files.Dir}, "gt": {files.GroundTruth},
		"predictions": {strings.Join(preds, "\n")}, "target": {fmt.Sprint(target)}, "seed": {"11"},
	})
	m := studyLink.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("making the study: %s\n%s", resp.Status, body)
	}
	studyURL = base + "/admin/studies/" + m[1]
	resp, body = Do(t, c, "POST", studyURL+"/raters", token, url.Values{"count": {fmt.Sprint(raters)}})
	links = inviteLink.FindAllString(body, -1)
	if resp.StatusCode != http.StatusOK || len(links) != raters {
		t.Fatalf("inviting %d raters: %s, %d links\n%s", raters, resp.Status, len(links), body)
	}
	return studyURL, links
}
