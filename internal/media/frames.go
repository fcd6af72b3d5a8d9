package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
)

// Frame is one decoded video frame: packed RGB, 3 bytes a pixel, rows top to
// bottom. The frame owns Pix; a callback may keep it.
type Frame struct {
	Index  int     // 0-based position in the delivered sequence
	Time   float64 // seconds from the start of the clip
	Width  int
	Height int
	Pix    []byte // len Width*Height*3
}

// FrameOptions chooses which frames Frames decodes. Count, when set, takes
// precedence over Rate.
type FrameOptions struct {
	// Rate is frames per second (default DefaultRate). When it is at most
	// half the clip's frame rate, frames that no other frame refers to are
	// not decoded at all, which saves a good share of the decoding; a
	// delivered picture is then at most one source frame from its Time.
	Rate float64
	// Count asks for K frames spread uniformly over the clip, each taken at
	// the middle of its 1/K slice of the duration.
	Count int
	// MaxSide, when positive, downscales frames so that the longer side is
	// at most MaxSide pixels (aspect kept, sizes even). Frames smaller than
	// that are left as they are.
	MaxSide int
	// Threads, when positive, is the number of threads ffmpeg decodes
	// with; 0 leaves the choice to ffmpeg (about one per core). A caller
	// that analyses frames on the other cores while ffmpeg decodes gets
	// more done with fewer decoding threads competing with its own.
	Threads int
}

// DefaultRate is the frame rate Frames uses when none is given.
const DefaultRate = 2.0

// Frames decodes the video of path and calls fn with each frame, in order,
// as ffmpeg delivers it through a pipe. Returning an error from fn stops
// decoding and Frames returns that error. A file without video gives an
// error wrapping ErrNoStream. Rotation stored in the file is applied. When
// the file is damaged or cut short, the frames that could be decoded are
// delivered and the error wraps ErrDamaged.
func Frames(ctx context.Context, path string, opts FrameOptions, fn func(Frame) error) error {
	info, err := Probe(ctx, path)
	if err != nil {
		return err
	}
	return info.DecodeFrames(ctx, opts, fn)
}

// DecodeFrames is Frames for a file already probed, sparing a second
// ffprobe run.
func (info *Info) DecodeFrames(ctx context.Context, opts FrameOptions, fn func(Frame) error) error {
	path := info.Path
	if !info.HasVideo {
		return fmt.Errorf("frames %s: %w: the file has no video stream", path, ErrNoStream)
	}
	bin, err := tool("ffmpeg")
	if err != nil {
		return err
	}
	rate := opts.Rate
	if rate <= 0 {
		rate = DefaultRate
	}
	offset := 0.0
	limit := -1
	if opts.Count > 0 {
		if info.Duration <= 0 {
			return fmt.Errorf("frames %s: %d uniform frames need a known duration, and ffprobe found none", path, opts.Count)
		}
		rate = float64(opts.Count) / info.Duration
		offset = info.Duration / float64(2*opts.Count)
		limit = opts.Count
	}
	// Each output frame i stands for the source at offset + i/rate: shifting
	// the timestamps back by offset and trimming at zero makes the fps
	// filter pick those instants without seeking, which could skip past
	// the only frames of a short or sparse clip.
	filter := "fps=" + strconv.FormatFloat(rate, 'g', 12, 64) + ":eof_action=pass"
	if offset > 0 {
		filter = "setpts=PTS-" + strconv.FormatFloat(offset, 'f', 6, 64) + "/TB," + filter + ":start_time=0"
	}
	if opts.MaxSide > 0 {
		m := strconv.Itoa(opts.MaxSide)
		filter += ",scale=w='if(gte(iw,ih),min(iw," + m + "),-2)':h='if(gte(iw,ih),-2,min(ih," + m + "))'"
	}
	args := []string{"-nostdin", "-v", "error"}
	video, _ := info.Video()
	if video.FrameRate > 0 && rate*2 <= video.FrameRate {
		args = append(args, "-skip_frame", "noref")
	}
	if opts.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(opts.Threads))
	}
	args = append(args, "-i", path, "-map", "0:"+strconv.Itoa(video.Index), "-an", "-sn", "-dn",
		"-vf", filter, "-f", "image2pipe", "-c:v", "ppm", "pipe:1")

	// ffmpeg runs under its own context, so that whatever ends the reading
	// early (a malformed frame, fn failing, enough frames, ctx cancelled)
	// kills it rather than leaving it to decode the rest of the clip; it
	// is always waited for before DecodeFrames returns.
	runCtx, kill := context.WithCancel(ctx)
	defer kill()
	cmd := exec.CommandContext(runCtx, bin, args...)
	stderr := &tailWriter{max: 4096}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("frames %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("frames %s: starting ffmpeg: %w", path, err)
	}
	// A reader goroutine keeps one frame ready while fn works on the
	// previous one, so that ffmpeg decodes while the caller analyses. It
	// stops at the end of ffmpeg's output (ended), after a malformed
	// frame, after limit frames, or when runCtx is done.
	type item struct {
		f   Frame
		err error
	}
	frames := make(chan item, 1)
	var ended bool // written by the reader before it closes frames
	go func() {
		defer close(frames)
		r := bufio.NewReaderSize(stdout, 1<<20)
		for n := 0; limit < 0 || n < limit; n++ {
			w, h, err := readPPMHeader(r)
			if err == io.EOF {
				ended = true
				return
			}
			var pix []byte
			if err == nil {
				pix = make([]byte, w*h*3)
				if _, err = io.ReadFull(r, pix); err != nil {
					err = fmt.Errorf("short frame: %w", err)
				}
			}
			// A frame cut short by the end of the output means ffmpeg
			// stopped writing; its exit status says why.
			ended = errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
			it := item{err: err}
			if err == nil {
				it.f = Frame{Index: n, Time: offset + float64(n)/rate, Width: w, Height: h, Pix: pix}
			}
			select {
			case frames <- it:
			case <-runCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var cbErr, readErr error
	n := 0
	killed := false
	for it := range frames {
		if it.err != nil {
			readErr = it.err // the reader stops after sending it
			break
		}
		if ctx.Err() != nil {
			break
		}
		n++
		if cbErr = fn(it.f); cbErr != nil {
			break
		}
	}
	if cbErr != nil || ctx.Err() != nil {
		kill()
		killed = true
	}
	for range frames {
		// Wait for the reader to finish before Wait closes the pipe; a
		// killed ffmpeg ends any read it is blocked in.
	}
	if !ended && !killed {
		// A malformed frame or enough frames: nothing more will be read.
		kill()
		killed = true
	}
	waitErr := cmd.Wait()
	switch {
	case cbErr != nil:
		return cbErr
	case limit >= 0 && n >= limit && readErr == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("frames %s: %w", path, ctx.Err())
	case readErr != nil && killed:
		return fmt.Errorf("frames %s: reading ffmpeg output: %w", path, readErr)
	case waitErr != nil:
		return runError(ctx, "frames", path, waitErr, stderr)
	case readErr != nil:
		return fmt.Errorf("frames %s: reading ffmpeg output: %w", path, readErr)
	}
	return damaged("frames", path, stderr)
}

// readPPMHeader reads "P6 <w> <h> <max>" and the single whitespace byte
// after it. io.EOF means no more frames.
func readPPMHeader(r *bufio.Reader) (w, h int, err error) {
	var fields [4]int
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, 0, fmt.Errorf("truncated frame header: %w", err)
		}
		return 0, 0, err
	}
	if string(magic) != "P6" {
		return 0, 0, fmt.Errorf("unexpected frame header %q", magic)
	}
	for k := 1; k < 4; k++ {
		n, err := readPPMInt(r)
		if err != nil {
			return 0, 0, err
		}
		fields[k] = n
	}
	if fields[3] != 255 || fields[1] <= 0 || fields[2] <= 0 || fields[1]*fields[2] > 1<<28 {
		return 0, 0, fmt.Errorf("unexpected frame header %dx%d max %d", fields[1], fields[2], fields[3])
	}
	return fields[1], fields[2], nil
}

func readPPMInt(r *bufio.Reader) (int, error) {
	c, err := r.ReadByte()
	for err == nil && (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
		c, err = r.ReadByte()
	}
	n, digits := 0, 0
	for err == nil && c >= '0' && c <= '9' {
		n = n*10 + int(c-'0')
		digits++
		c, err = r.ReadByte()
	}
	if err != nil {
		return 0, fmt.Errorf("truncated frame header: %w", err)
	}
	if digits == 0 {
		return 0, fmt.Errorf("bad frame header byte %q", c)
	}
	return n, nil // the one whitespace byte after the number is consumed
}
