package media

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// Stream is one stream of a media file as ffprobe reports it.
type Stream struct {
	Index int    `json:"index"`
	Type  string `json:"type"` // "video", "audio", "subtitle", "data", ...
	Codec string `json:"codec"`
	// Video.
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	Rotation  int     `json:"rotation,omitempty"` // degrees, as stored in the display matrix
	FrameRate float64 `json:"frame_rate,omitempty"`
	// AttachedPic marks a cover image stored as a video stream.
	AttachedPic bool `json:"attached_pic,omitempty"`
	// Audio.
	SampleRate int `json:"sample_rate,omitempty"`
	Channels   int `json:"channels,omitempty"`
	// Duration in seconds, 0 when unknown.
	Duration float64 `json:"duration_s,omitempty"`
}

// Info describes a media file.
type Info struct {
	Path     string  `json:"path"`
	Format   string  `json:"format"`
	Duration float64 `json:"duration_s"` // seconds, 0 when unknown (still images)
	// Width and Height are the displayed size of the first video stream,
	// after rotation: the size of the frames Frames delivers.
	Width    int      `json:"width,omitempty"`
	Height   int      `json:"height,omitempty"`
	Rotation int      `json:"rotation,omitempty"`
	Streams  []Stream `json:"streams"`

	HasVideo    bool `json:"has_video"`
	HasAudio    bool `json:"has_audio"`
	HasSubtitle bool `json:"has_subtitle"`
}

// Video returns the first video stream that is not a cover picture.
func (in *Info) Video() (Stream, bool) {
	for _, s := range in.Streams {
		if s.Type == "video" && !s.AttachedPic {
			return s, true
		}
	}
	return Stream{}, false
}

// Audio returns the first audio stream.
func (in *Info) Audio() (Stream, bool) { return in.first("audio") }

// Subtitle returns the first subtitle stream.
func (in *Info) Subtitle() (Stream, bool) { return in.first("subtitle") }

func (in *Info) first(typ string) (Stream, bool) {
	for _, s := range in.Streams {
		if s.Type == typ {
			return s, true
		}
	}
	return Stream{}, false
}

type probeJSON struct {
	Streams []struct {
		Index        int               `json:"index"`
		CodecName    string            `json:"codec_name"`
		CodecType    string            `json:"codec_type"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		SampleRate   string            `json:"sample_rate"`
		Channels     int               `json:"channels"`
		AvgFrameRate string            `json:"avg_frame_rate"`
		RFrameRate   string            `json:"r_frame_rate"`
		Duration     string            `json:"duration"`
		Tags         map[string]string `json:"tags"`
		Disposition  map[string]int    `json:"disposition"`
		SideData     []struct {
			Type     string  `json:"side_data_type"`
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// Probe runs ffprobe on path and describes its streams.
func Probe(ctx context.Context, path string) (*Info, error) {
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	bin, err := tool("ffprobe")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-v", "error", "-print_format", "json",
		"-show_format", "-show_streams", "--", path)
	stderr := &tailWriter{max: 4096}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, runError(ctx, "probe", path, err, stderr)
	}
	var pj probeJSON
	if err := json.Unmarshal(out, &pj); err != nil {
		return nil, fmt.Errorf("probe %s: reading ffprobe output: %w", path, err)
	}
	info := &Info{Path: path, Format: pj.Format.FormatName, Duration: parseFloat(pj.Format.Duration)}
	for _, s := range pj.Streams {
		st := Stream{
			Index:    s.Index,
			Type:     s.CodecType,
			Codec:    s.CodecName,
			Duration: parseFloat(s.Duration),
		}
		switch s.CodecType {
		case "video":
			st.Width, st.Height = s.Width, s.Height
			st.FrameRate = parseRate(s.AvgFrameRate)
			if st.FrameRate == 0 {
				st.FrameRate = parseRate(s.RFrameRate)
			}
			st.AttachedPic = s.Disposition["attached_pic"] == 1
			for _, sd := range s.SideData {
				if sd.Rotation != 0 {
					st.Rotation = int(math.Round(sd.Rotation))
				}
			}
			if r, ok := s.Tags["rotate"]; ok && st.Rotation == 0 {
				st.Rotation, _ = strconv.Atoi(r)
			}
		case "audio":
			st.SampleRate, _ = strconv.Atoi(s.SampleRate)
			st.Channels = s.Channels
		}
		info.Streams = append(info.Streams, st)
	}
	if len(info.Streams) == 0 {
		return nil, fmt.Errorf("probe %s: %w: no streams", path, ErrNotMedia)
	}
	if v, ok := info.Video(); ok {
		info.HasVideo = true
		info.Rotation = v.Rotation
		info.Width, info.Height = v.Width, v.Height
		if r := ((v.Rotation % 180) + 180) % 180; r == 90 {
			info.Width, info.Height = v.Height, v.Width
		}
		if info.Duration == 0 {
			info.Duration = v.Duration
		}
	}
	_, info.HasAudio = info.Audio()
	_, info.HasSubtitle = info.Subtitle()
	if info.Duration == 0 {
		for _, s := range info.Streams {
			info.Duration = math.Max(info.Duration, s.Duration)
		}
	}
	return info, nil
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// parseRate reads an ffprobe rational such as "30000/1001".
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return parseFloat(s)
	}
	n, d := parseFloat(num), parseFloat(den)
	if d == 0 {
		return 0
	}
	return n / d
}
