package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrNoFFmpeg reports that the ffmpeg or ffprobe binary is not on PATH.
var ErrNoFFmpeg = errors.New("ffmpeg/ffprobe not found on PATH: install it with `apt-get install ffmpeg` (Debian) or run `make setup`")

// ErrNotMedia reports a file that ffmpeg cannot read as media: empty, not a
// media format, or truncated beyond repair.
var ErrNotMedia = errors.New("not a readable media file")

// ErrNoStream reports that a file has no stream of the kind asked for (no
// audio in a silent video, no video in a sound file, no subtitle track).
var ErrNoStream = errors.New("no such stream")

// ErrDamaged reports that ffmpeg met damaged or missing data while
// decoding (a truncated or corrupt file) but carried on: what was delivered
// before the error is valid, and callers may keep it with a warning.
var ErrDamaged = errors.New("damaged or truncated media")

// damaged returns an error wrapping ErrDamaged when ffmpeg's diagnostics of
// a run that succeeded show that data was lost, and nil otherwise.
func damaged(what, path string, stderr *tailWriter) error {
	all := stderr.buf.String()
	for _, s := range []string{"partial file", "Invalid data found", "Error while decoding", "corrupt", "error while decoding"} {
		if strings.Contains(all, s) {
			return fmt.Errorf("%s %s: %w: %s", what, path, ErrDamaged, stderr.lastLine())
		}
	}
	return nil
}

// CheckTools reports whether ffmpeg and ffprobe are on PATH: without them
// no clip can be read (the error wraps ErrNoFFmpeg).
func CheckTools() error {
	for _, name := range []string{"ffprobe", "ffmpeg"} {
		if _, err := tool(name); err != nil {
			return err
		}
	}
	return nil
}

// tool returns the absolute path of an ffmpeg binary ("ffmpeg" or "ffprobe").
func tool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%s)", ErrNoFFmpeg, name)
	}
	return p, nil
}

// checkFile makes sure path names a readable regular file, so that a missing
// file is reported as such rather than through ffmpeg's wording.
func checkFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	if st.Size() == 0 {
		return fmt.Errorf("%s: %w: empty file", path, ErrNotMedia)
	}
	return nil
}

// tailWriter keeps the last max bytes written to it: ffmpeg's diagnostics
// for an error message without unbounded memory.
type tailWriter struct {
	buf bytes.Buffer
	max int
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if over := w.buf.Len() - w.max; over > 0 {
		w.buf.Next(over)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line of ffmpeg's diagnostics.
func (w *tailWriter) lastLine() string {
	lines := strings.Split(strings.TrimSpace(w.buf.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// runError turns a failed ffmpeg/ffprobe run into an error naming the file.
// Diagnostics that mean "this is not media" wrap ErrNotMedia.
func runError(ctx context.Context, what, path string, err error, stderr *tailWriter) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", what, path, ctxErr)
	}
	msg := stderr.lastLine()
	if msg == "" {
		msg = err.Error()
	}
	all := stderr.buf.String()
	for _, s := range []string{"Invalid data found", "moov atom not found", "could not find codec parameters", "End of file"} {
		if strings.Contains(all, s) {
			return fmt.Errorf("%s %s: %w: %s", what, path, ErrNotMedia, msg)
		}
	}
	return fmt.Errorf("%s %s: ffmpeg: %s", what, path, msg)
}
