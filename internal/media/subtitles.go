package media

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"emer/internal/textenc"
)

// Cue is one subtitle: text shown from Start to End seconds. Given text
// has Start and End both 0.
type Cue struct {
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
	Text  string  `json:"text"`
}

// Subtitle sources, as Subtitles.Source reports them.
const (
	SourceText     = "text"     // given on the command line
	SourceFile     = "file"     // a .srt or .vtt file
	SourceEmbedded = "embedded" // a text track inside the clip
)

// Subtitles are the cues of a clip and where they came from.
type Subtitles struct {
	Source string `json:"source"`
	Path   string `json:"path,omitempty"` // the file read, for file and embedded sources
	Cues   []Cue  `json:"cues"`
}

// Text returns all cue texts joined by single spaces, line breaks included.
func (s *Subtitles) Text() string {
	parts := make([]string, 0, len(s.Cues))
	for _, c := range s.Cues {
		if t := strings.Join(strings.Fields(c.Text), " "); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

// TextSubtitles wraps given text as subtitles with one untimed cue.
func TextSubtitles(text string) *Subtitles {
	return &Subtitles{Source: SourceText, Cues: []Cue{{Text: strings.TrimSpace(text)}}}
}

// subtitleLimits bound a subtitle file: a line of at most 1 MiB, a file of
// at most 64 MiB.
var subtitleLimits = textenc.Limits{MaxLine: 1 << 20, MaxSize: 64 << 20}

// ReadSubtitleFile reads an .srt or .vtt file (the format is recognised by
// content, so either extension works) in the default text encoding
// (textenc.Default).
func ReadSubtitleFile(path string) (*Subtitles, error) {
	return ReadSubtitleFileEncoded(path, textenc.Default())
}

// ReadSubtitleFileEncoded is ReadSubtitleFile for a file in encoding enc.
// UTF-8 and UTF-16 files with a byte-order mark are read whatever enc is.
func ReadSubtitleFileEncoded(path string, enc textenc.Encoding) (*Subtitles, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("subtitles: %w", err)
	}
	defer f.Close()
	cues, err := parseCues(textenc.NewReader(f, "", enc, subtitleLimits))
	if err != nil {
		return nil, fmt.Errorf("subtitles %s: %w", path, err)
	}
	return &Subtitles{Source: SourceFile, Path: path, Cues: cues}, nil
}

// EmbeddedSubtitles converts the first subtitle track of clip (mov_text,
// SubRip, WebVTT, ASS...) to cues with ffmpeg. A clip without one gives an
// error wrapping ErrNoStream.
func EmbeddedSubtitles(ctx context.Context, clip string) (*Subtitles, error) {
	info, err := Probe(ctx, clip)
	if err != nil {
		return nil, err
	}
	return info.DecodeSubtitles(ctx)
}

// DecodeSubtitles is EmbeddedSubtitles for a file already probed.
func (info *Info) DecodeSubtitles(ctx context.Context) (*Subtitles, error) {
	clip := info.Path
	if !info.HasSubtitle {
		return nil, fmt.Errorf("subtitles %s: %w: the file has no subtitle track", clip, ErrNoStream)
	}
	track, ok := info.TextSubtitle()
	if !ok {
		sub, _ := info.Subtitle()
		return nil, fmt.Errorf("subtitles %s: %w: the subtitle track is pictures (%s), not text", clip, ErrNoStream, sub.Codec)
	}
	bin, err := tool("ffmpeg")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-i", clip,
		"-map", "0:"+strconv.Itoa(track.Index), "-f", "srt", "pipe:1")
	stderr := &tailWriter{max: 4096}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, runError(ctx, "subtitles", clip, err, stderr)
	}
	cues, err := ParseCues(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("subtitles %s: embedded track: %w", clip, err)
	}
	return &Subtitles{Source: SourceEmbedded, Path: clip, Cues: cues}, nil
}

// textSubtitleCodecs are the subtitle codecs that carry text, which ffmpeg
// can turn into SubRip; the others (dvd_subtitle, hdmv_pgs_subtitle,
// dvb_subtitle, xsub) are pictures.
var textSubtitleCodecs = map[string]bool{
	"mov_text": true, "subrip": true, "srt": true, "webvtt": true, "ass": true, "ssa": true,
	"text": true, "microdvd": true, "mpl2": true, "jacosub": true, "sami": true, "realtext": true,
	"subviewer": true, "subviewer1": true, "vplayer": true, "pjs": true, "stl": true, "eia_608": true,
}

// TextSubtitle returns the first subtitle stream that carries text.
func (in *Info) TextSubtitle() (Stream, bool) {
	for _, s := range in.Streams {
		if s.Type == "subtitle" && textSubtitleCodecs[s.Codec] {
			return s, true
		}
	}
	return Stream{}, false
}

// FindSubtitles looks for the subtitles of clip without being told where
// they are: a sidecar file with the clip's name and extension .srt or .vtt,
// then an embedded text track. When there are none the error wraps
// ErrNoStream.
func FindSubtitles(ctx context.Context, clip string) (*Subtitles, error) {
	return findSubtitles(ctx, clip, nil)
}

// FindSubtitles is the package's FindSubtitles for a file already probed.
func (info *Info) FindSubtitles(ctx context.Context) (*Subtitles, error) {
	return findSubtitles(ctx, info.Path, info)
}

func findSubtitles(ctx context.Context, clip string, info *Info) (*Subtitles, error) {
	base := strings.TrimSuffix(clip, filepath.Ext(clip))
	for _, ext := range []string{".srt", ".vtt", ".SRT", ".VTT"} {
		if st, err := os.Stat(base + ext); err == nil && !st.IsDir() {
			return ReadSubtitleFile(base + ext)
		}
	}
	var subs *Subtitles
	var err error
	if info != nil {
		subs, err = info.DecodeSubtitles(ctx)
	} else {
		subs, err = EmbeddedSubtitles(ctx, clip)
	}
	if err != nil {
		if errors.Is(err, ErrNoStream) {
			return nil, fmt.Errorf("subtitles %s: %w: no sidecar .srt/.vtt and no subtitle track", clip, ErrNoStream)
		}
		return nil, err
	}
	return subs, nil
}

var (
	cueTags    = regexp.MustCompile(`<[^>]*>|\{\\[^}]*\}`)
	timeFormat = regexp.MustCompile(`^(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})$`)
)

// ParseCues reads SubRip (.srt) or WebVTT (.vtt) text in UTF-8 (or UTF-16
// with a byte-order mark). Markup tags are removed from cue text. A timing
// line that cannot be read, bytes that are not UTF-8 text, a line longer
// than 1 MiB and an input over 64 MiB are errors that give the line.
func ParseCues(r io.Reader) ([]Cue, error) {
	return parseCues(textenc.NewReader(r, "", textenc.UTF8, subtitleLimits))
}

// parseCues reads cues from text already decoded and bounded.
func parseCues(r *textenc.Reader) ([]Cue, error) {
	sc := bufio.NewScanner(r)
	// Room for the longest line the reader lets through and its line end.
	sc.Buffer(make([]byte, 64*1024), int(subtitleLimits.MaxLine)+2)
	var (
		cues   []Cue
		cur    *Cue
		lines  []string
		lineNo int
		inNote bool
	)
	flush := func() {
		if cur != nil {
			cur.Text = strings.TrimSpace(cueTags.ReplaceAllString(strings.Join(lines, "\n"), ""))
			cues = append(cues, *cur)
		}
		cur, lines = nil, nil
	}
	for sc.Scan() {
		if err := r.Err(); err != nil {
			return nil, err // the line may be cut where the text went bad
		}
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
			if strings.HasPrefix(line, "WEBVTT") {
				continue
			}
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			flush()
			inNote = false
			continue
		}
		if inNote {
			continue
		}
		if cur == nil && (strings.HasPrefix(trimmed, "NOTE") || strings.HasPrefix(trimmed, "STYLE") || strings.HasPrefix(trimmed, "REGION")) {
			inNote = true
			continue
		}
		if strings.Contains(line, "-->") {
			flush()
			start, end, err := parseTiming(trimmed)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			cur = &Cue{Start: start, End: end}
			continue
		}
		if cur != nil {
			lines = append(lines, line)
		}
		// Anything else outside a cue is an identifier or a counter.
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d is longer than %s", lineNo+1, textenc.FormatSize(subtitleLimits.MaxLine))
		}
		return nil, err
	}
	flush()
	return cues, nil
}

func parseTiming(line string) (start, end float64, err error) {
	a, b, _ := strings.Cut(line, "-->")
	fields := strings.Fields(b)
	if len(fields) == 0 {
		return 0, 0, fmt.Errorf("timing %q has no end time", line)
	}
	if start, err = parseTimestamp(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if end, err = parseTimestamp(fields[0]); err != nil {
		return 0, 0, err
	}
	if end < start {
		return 0, 0, fmt.Errorf("timing %q ends before it starts", line)
	}
	return start, end, nil
}

func parseTimestamp(s string) (float64, error) {
	m := timeFormat.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("bad timestamp %q (want hh:mm:ss,mmm or mm:ss.mmm)", s)
	}
	h := 0
	if m[1] != "" {
		h, _ = strconv.Atoi(m[1])
	}
	mi, _ := strconv.Atoi(m[2])
	sec, _ := strconv.Atoi(m[3])
	ms, _ := strconv.Atoi((m[4] + "00")[:3])
	if mi > 59 || sec > 59 {
		return 0, fmt.Errorf("bad timestamp %q", s)
	}
	return float64(h*3600+mi*60+sec) + float64(ms)/1000, nil
}
