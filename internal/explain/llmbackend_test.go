package explain

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/cues"
	"emer/internal/llm"
	"emer/internal/llm/llmtest"
	"emer/internal/media"
	"emer/internal/reply"
)

// fakeMedia hands out numbered frames and a fixed WAV, without ffmpeg.
type fakeMedia struct {
	n   int   // frames it can read; 0 means as many as asked
	err error // returned with the frames

	mu                sync.Mutex
	frameCalls, audio int
}

var fakeWAV = []byte("RIFF\x24\x00\x00\x00WAVEfmt 16 kHz mono")

func fakeJPEG(i int) []byte { return []byte(fmt.Sprintf("\xff\xd8jpeg frame %d\xff\xd9", i)) }

func (m *fakeMedia) Frames(_ context.Context, _ string, k int) ([]Frame, error) {
	m.mu.Lock()
	m.frameCalls++
	m.mu.Unlock()
	n := k
	if m.n > 0 {
		n = m.n
	}
	out := make([]Frame, n)
	for i := range out {
		out[i] = Frame{Time: (float64(i) + 0.5) * 7.4 / float64(k), JPEG: fakeJPEG(i)}
	}
	return out, m.err
}

func (m *fakeMedia) Audio(context.Context, string) ([]byte, error) {
	m.mu.Lock()
	m.audio++
	m.mu.Unlock()
	return fakeWAV, nil
}

const (
	fakeReasoning = "In the video, he smiles broadly and his voice is cheerful. Therefore, it is inferred that his emotional state is happy and excited."
	fakeCaption   = "A man in a grey suit smiles broadly and nods; the corners of his mouth stay raised throughout."
	fakeLabels    = "[happy, excited]"
)

// answer replies as a model would to each step's prompt.
func answer(c *llmtest.Call) llmtest.Step {
	p := c.Prompt()
	switch {
	case strings.HasPrefix(p, "Please assume the role"):
		return llmtest.Step{Text: fakeLabels}
	case strings.HasPrefix(p, "These "):
		return llmtest.Step{Text: fakeCaption}
	}
	return llmtest.Step{Text: fakeReasoning}
}

func newBackend(t *testing.T, srv *llmtest.Server, m Media) *LLM {
	t.Helper()
	return &LLM{Client: llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}), Model: "reasoner", Media: m}
}

func golden(t *testing.T, template, c string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", template+".tmpl", c))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// part is a content part as the server received it.
type part struct {
	kind string // text, image or audio
	text string
	data []byte
}

func parts(t *testing.T, m llmtest.Message) []part {
	t.Helper()
	if len(m.Parts) == 0 {
		return []part{{kind: "text", text: m.Content}}
	}
	var out []part
	for _, p := range m.Parts {
		switch p["type"] {
		case "text":
			out = append(out, part{kind: "text", text: p["text"].(string)})
		case "image_url":
			url := p["image_url"].(map[string]any)["url"].(string)
			b64, ok := strings.CutPrefix(url, "data:image/jpeg;base64,")
			if !ok {
				t.Fatalf("image URL %.40q is not a JPEG data URL", url)
			}
			b, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, part{kind: "image", data: b})
		case "input_audio":
			a := p["input_audio"].(map[string]any)
			if a["format"] != "wav" {
				t.Errorf("audio format %v", a["format"])
			}
			b, err := base64.StdEncoding.DecodeString(a["data"].(string))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, part{kind: "audio", data: b})
		default:
			t.Fatalf("unknown part %v", p)
		}
	}
	return out
}

// layout writes the parts' kinds in order, runs of images as "image×N".
func layout(ps []part) string {
	var out []string
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].kind == ps[i].kind && ps[i].kind == "image" {
			j++
		}
		if j > i+1 {
			out = append(out, fmt.Sprintf("image×%d", j-i))
			i = j
			continue
		}
		out = append(out, ps[i].kind)
		i++
	}
	return strings.Join(out, " ")
}

func stripMarkers(s string) string {
	for _, m := range []string{markerImage, markerFrame, markerAudio} {
		s = strings.ReplaceAll(s, m, "")
	}
	return s
}

func TestLLMEnd2End(t *testing.T) {
	tests := []struct {
		name     string
		prompt   string
		lang     string
		frames   int
		audio    bool
		subtitle string
		golden   string // template/case of the prompt's render
		layout   string
	}{
		{"emer", "", "", 0, false, promptCases["basic"].Subtitle, "emer/basic", "image×8 text"},
		{"emer with audio", PromptEMER, "", 8, true, promptCases["audio"].Subtitle, "emer/audio", "image×8 audio text"},
		{"emer in Chinese", PromptEMER, Chinese, 4, false, promptCases["zh"].Subtitle, "emer_zh/zh", "image×4 text"},
		{"affectgpt2023 with audio", PromptAffectGPT2023, "", 8, true, promptCases["audio"].Subtitle, "affectgpt2023/audio", "text audio text image×8 text"},
		{"affectgpt2023", PromptAffectGPT2023, "", 8, false, promptCases["basic"].Subtitle, "affectgpt2023/basic", "text image×8 text"},
		{"affectgpt2025 with audio", PromptAffectGPT2025, "", 8, true, promptCases["audio"].Subtitle, "affectgpt2025/audio", "text audio text image×8 text"},
		{"affectgpt2025", PromptAffectGPT2025, "", 8, false, promptCases["basic"].Subtitle, "affectgpt2025/basic", "text image×8 text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(answer)
			defer srv.Close()
			m := &fakeMedia{}
			b := newBackend(t, srv, m)
			b.Prompt, b.Language, b.Frames, b.Audio = tt.prompt, tt.lang, tt.frames, tt.audio
			e, err := b.Explain(context.Background(), Input{Clip: "clip.mp4", Subtitle: tt.subtitle})
			if err != nil {
				t.Fatal(err)
			}
			calls := srv.Calls()
			if len(calls) != 2 {
				t.Fatalf("%d calls, want the reasoning and the labels", len(calls))
			}
			if calls[0].Model != "reasoner" || len(calls[0].Messages) != 1 {
				t.Errorf("reasoning call: model %q, %d messages", calls[0].Model, len(calls[0].Messages))
			}
			ps := parts(t, calls[0].Messages[0])
			if got := layout(ps); got != tt.layout {
				t.Errorf("parts %s, want %s", got, tt.layout)
			}
			k := tt.frames
			if k == 0 {
				k = DefaultFrames
			}
			var images, audio int
			var text strings.Builder
			for _, p := range ps {
				switch p.kind {
				case "image":
					if string(p.data) != string(fakeJPEG(images)) {
						t.Errorf("image %d holds %q", images, p.data)
					}
					images++
				case "audio":
					audio++
					if string(p.data) != string(fakeWAV) {
						t.Errorf("audio holds %q", p.data)
					}
				case "text":
					text.WriteString(p.text)
				}
			}
			if images != k {
				t.Errorf("%d image parts, want %d", images, k)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.audio]; audio != want || m.audio != want {
				t.Errorf("%d audio parts and %d audio reads, want %d", audio, m.audio, want)
			}
			template, c, _ := strings.Cut(tt.golden, "/")
			if want := stripMarkers(golden(t, template, c)); text.String() != want {
				t.Errorf("prompt differs from testdata/%s.tmpl/%s:\n got: %q\nwant: %q", template, c, text.String(), want)
			}
			if !strings.Contains(text.String(), "<Subtitle>"+tt.subtitle+"</Subtitle>") {
				t.Errorf("the subtitle is not inside <Subtitle>…</Subtitle>: %q", text.String())
			}

			extract, _ := Render(templateOVExtract, PromptData{Text: fakeReasoning})
			if ps := parts(t, calls[1].Messages[0]); layout(ps) != "text" || ps[0].text != extract {
				t.Errorf("label call = %s %q, want the extraction prompt over the reasoning", layout(ps), ps[0].text)
			}

			modalities := []string{"visual", "content"}
			if tt.audio {
				modalities = []string{"visual", "audio", "content"}
			}
			want := &Explanation{Clip: "clip.mp4", Emotions: []Emotion{}, OVLabels: []string{"happy", "excited"}, Clues: []Clue{},
				Reasoning: fakeReasoning, Modalities: modalities, Backend: "llm", Model: "reasoner", Warnings: []string{}}
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("explanation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLLMCues(t *testing.T) {
	c := &cues.Cues{Clip: "clip.mp4", Duration: 5,
		Visual: visual(seg("happy", 0, 3, 0.9)),
		Audio:  speech(180, 25, 4.2, louder),
		Text:   subtitles(promptLine("This is wonderful news.")),
	}
	srv := llmtest.NewServer(answer)
	defer srv.Close()
	b := newBackend(t, srv, &fakeMedia{})
	b.Mode = ModeCues
	e, err := b.Explain(context.Background(), Input{Clip: "clip.mp4", Cues: c})
	if err != nil {
		t.Fatal(err)
	}
	ps := parts(t, srv.Calls()[0].Messages[0])
	if got := layout(ps); got != "image×8 text" {
		t.Errorf("parts %s, want the frames and the prompt", got)
	}
	prompt := ps[len(ps)-1].text
	summary := CueSummary(c)
	if !strings.Contains(prompt, "<Cues>\n"+summary+"\n</Cues>") {
		t.Errorf("the prompt does not carry the cue summary %q:\n%s", summary, prompt)
	}
	if want, _ := Render(PromptEMER, PromptData{Subtitle: "This is wonderful news.", Frames: 8, Cues: summary}); prompt != want {
		t.Errorf("prompt = %q\nwant     %q", prompt, want)
	}
	// The voice was measured and its cues sent, though no audio was.
	if diff := cmp.Diff([]string{"visual", "audio", "content"}, e.Modalities); diff != "" {
		t.Errorf("modalities (-want +got):\n%s", diff)
	}

	if _, err := b.Explain(context.Background(), Input{Clip: "clip.mp4"}); err == nil {
		t.Error("cues mode without cues")
	}
}

func promptLine(s string) media.Cue { return media.Cue{Start: 3.2, End: 6, Text: s} }

func TestCueSummary(t *testing.T) {
	c := &cues.Cues{Duration: 5,
		Visual: visual(seg("neutral", 0, 1, 0.8), seg("happy", 1, 3, 0.9)),
		Audio:  speech(180, 25, 4.2, louder),
		Text:   subtitles(promptLine("I am not happy!")),
	}
	want := "Face (main face, track 1, 6 frames): dominant expression neutral 0.0-1.0 s (mean probability 0.80), then happy 1.0-3.0 s (mean probability 0.90); mean expression probabilities happy 0.60, neutral 0.33, sad 0.07.\n" +
		"Voice: mean pitch 180 Hz (sd 25 Hz, range 130-230 Hz), intensity 62.0 dB, jitter 1.2 %, shimmer 8.0 %, 4.2 voiced segments per second over 0.5-4.5 s; against the speaker's own level: voice 8 dB louder than the speaker's level (2.0-3.0 s).\n" +
		`Subtitle (en): emotion words "happy" (happy, negated, 3.2-6.0 s); valence -0.51 (vader); 1 sentences, 1 exclamations, 0 questions.`
	if got := CueSummary(c); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	none := CueSummary(&cues.Cues{Visual: noVideo, Audio: noAudio, Text: noText})
	want = "Face: not measured (the clip has no video stream).\nVoice: not measured (the clip has no audio stream).\nSubtitle: not measured (" + noText.Reason + ")."
	if none != want {
		t.Errorf("summary of nothing\n got %q\nwant %q", none, want)
	}
}

func TestLLMCaption(t *testing.T) {
	srv := llmtest.NewServer(answer)
	defer srv.Close()
	b := newBackend(t, srv, &fakeMedia{})
	b.Mode, b.CaptionModel = ModeCaption, "captioner"
	e, err := b.Explain(context.Background(), Input{Clip: "clip.mp4", Subtitle: "This is wonderful news.", Cues: &cues.Cues{Duration: 7.4}})
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want caption, reasoning and labels", len(calls))
	}
	cap := parts(t, calls[0].Messages[0])
	if calls[0].Model != "captioner" || layout(cap) != "text image×8 text" {
		t.Errorf("caption call to %q with %s", calls[0].Model, layout(cap))
	}
	if got, want := cap[0].text+cap[len(cap)-1].text, stripMarkers(golden(t, "caption", "basic")); got != want {
		t.Errorf("caption prompt %q\nwant %q", got, want)
	}
	reason := parts(t, calls[1].Messages[0])
	if calls[1].Model != "reasoner" || layout(reason) != "text" {
		t.Errorf("reasoning call to %q with %s, want text only", calls[1].Model, layout(reason))
	}
	if want := golden(t, "emer", "caption"); reason[0].text != want {
		t.Errorf("reasoning prompt %q\nwant %q", reason[0].text, want)
	}
	if len(e.Clues) != 1 || e.Clues[0].Aspect != AspectVisual || e.Clues[0].Text != fakeCaption || e.Clues[0].End != 7.4 ||
		e.Clues[0].Evidence["model"] != "captioner" || e.Clues[0].Evidence["frames"] != 8 {
		t.Errorf("clues = %+v, want the caption as the visual clue", e.Clues)
	}
	if e.Model != "captioner + reasoner" {
		t.Errorf("model = %q", e.Model)
	}
}

// completion is a chat completion with a finish reason and, when
// refusal is set, a refusal instead of content.
func completion(text, finish, refusal string) string {
	msg := fmt.Sprintf(`{"role":"assistant","content":%q}`, text)
	if refusal != "" {
		msg = fmt.Sprintf(`{"role":"assistant","content":null,"refusal":%q}`, refusal)
	}
	return `{"id":"c","object":"chat.completion","created":1,"model":"fake","choices":[{"index":0,"message":` + msg +
		`,"finish_reason":"` + finish + `"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
}

func TestLLMUnusableReplies(t *testing.T) {
	tests := []struct {
		name  string
		steps []llmtest.Step // the reasoning's reply, then the labels'
		step  string
		kind  reply.Kind
		raw   string
	}{
		{"empty reasoning", []llmtest.Step{{Text: "  \n"}}, StepReasoning, reply.Empty, "  \n"},
		{"reasoning cut at the token limit", []llmtest.Step{{Body: completion("In the video, he smiles and", "length", "")}}, StepReasoning, reply.Truncated, "In the video, he smiles and"},
		{"refusal marked by the server", []llmtest.Step{{Body: completion("", "stop", "I can't help with that.")}}, StepReasoning, reply.Refused, "I can't help with that."},
		{"reasoning declines", []llmtest.Step{{Text: "I'm sorry, but I can't analyse people's emotions."}}, StepReasoning, reply.Refused, "I'm sorry, but I can't analyse people's emotions."},
		{"labels in prose", []llmtest.Step{{Text: fakeReasoning}, {Text: "The main character seems to be quite happy and also a bit excited."}}, StepLabels, reply.Unparsed,
			"The main character seems to be quite happy and also a bit excited."},
		{"labels cut at the token limit", []llmtest.Step{{Text: fakeReasoning}, {Body: completion("[happy, exci", "length", "")}}, StepLabels, reply.Truncated, "[happy, exci"},
		{"labels empty", []llmtest.Step{{Text: fakeReasoning}, {Text: ""}}, StepLabels, reply.Empty, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(answer, tt.steps...)
			defer srv.Close()
			e, err := newBackend(t, srv, &fakeMedia{}).Explain(context.Background(), Input{Clip: "clip.mp4", Subtitle: "Hi."})
			if e != nil {
				t.Errorf("explanation from an unusable reply: %+v", e)
			}
			var se *StepError
			var f *reply.Failure
			if !errors.As(err, &se) || se.Step != tt.step || !errors.As(err, &f) {
				t.Fatalf("error = %v, want a failure of step %s", err, tt.step)
			}
			if f.Kind != tt.kind || f.Raw != tt.raw {
				t.Errorf("failure %s with raw %q, want %s with %q", f.Kind, f.Raw, tt.kind, tt.raw)
			}
		})
	}
}

func TestLLMRequestError(t *testing.T) {
	srv := llmtest.NewServer(answer, llmtest.Step{Status: 500, Body: `{"error":{"message":"out of memory"}}`})
	defer srv.Close()
	_, err := newBackend(t, srv, &fakeMedia{}).Explain(context.Background(), Input{Clip: "clip.mp4"})
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepReasoning || !errors.Is(err, llm.ErrServer) || !strings.Contains(string(llm.RawOf(err)), "out of memory") {
		t.Errorf("error = %v, want the server's error of the reasoning step with its body", err)
	}
}

func TestLLMFramesAndSubtitle(t *testing.T) {
	tests := []struct {
		name     string
		media    *fakeMedia
		warnings []string
		fails    bool
	}{
		{"damaged media, some frames", &fakeMedia{n: 5, err: fmt.Errorf("frames clip.mp4: %w: cut short", media.ErrDamaged)},
			[]string{"visual: 5 of 8 frames read from damaged media: frames clip.mp4: damaged or truncated media: cut short"}, false},
		{"short clip", &fakeMedia{n: 3}, []string{"visual: 3 of 8 frames could be read"}, false},
		{"no video", &fakeMedia{err: fmt.Errorf("frames clip.mp4: %w: the file has no video stream", media.ErrNoStream)}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(answer)
			defer srv.Close()
			e, err := newBackend(t, srv, tt.media).Explain(context.Background(), Input{Clip: "clip.mp4", Subtitle: "Hi."})
			if tt.fails {
				if err == nil || srv.Count() != 0 {
					t.Errorf("error %v after %d calls, want a failure before any call", err, srv.Count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.warnings, e.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if got := layout(parts(t, srv.Calls()[0].Messages[0])); got != fmt.Sprintf("image×%d text", tt.media.n) {
				t.Errorf("parts %s", got)
			}
		})
	}

	srv := llmtest.NewServer(answer)
	defer srv.Close()
	e, err := newBackend(t, srv, &fakeMedia{}).Explain(context.Background(), Input{Clip: "clip.mp4", Cues: &cues.Cues{Text: noText}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(srv.Calls()[0].Prompt(), "<Subtitle></Subtitle>") || contains(e.Modalities, "content") ||
		!contains(e.Warnings, "text: the text channel is absent: no subtitle was given or found; the prompt's subtitle is empty") {
		t.Errorf("without a subtitle: modalities %v, warnings %q", e.Modalities, e.Warnings)
	}
}

func TestLLMConfig(t *testing.T) {
	srv := llmtest.NewServer(answer)
	defer srv.Close()
	client := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()})
	tests := []struct {
		name string
		b    LLM
		in   Input
	}{
		{"no client", LLM{Model: "m"}, Input{Clip: "c"}},
		{"no model", LLM{Client: client}, Input{Clip: "c"}},
		{"unknown mode", LLM{Client: client, Model: "m", Mode: "dream"}, Input{Clip: "c"}},
		{"unknown prompt", LLM{Client: client, Model: "m", Prompt: "gpt4v"}, Input{Clip: "c"}},
		{"no Chinese form", LLM{Client: client, Model: "m", Prompt: PromptAffectGPT2025, Language: Chinese}, Input{Clip: "c"}},
		{"unknown language", LLM{Client: client, Model: "m", Language: "fr"}, Input{Clip: "c"}},
		{"negative frames", LLM{Client: client, Model: "m", Frames: -1}, Input{Clip: "c"}},
		{"no clip", LLM{Client: client, Model: "m"}, Input{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.Media = &fakeMedia{}
			if _, err := tt.b.Explain(context.Background(), tt.in); err == nil {
				t.Error("accepted")
			}
		})
	}
	if srv.Count() != 0 {
		t.Errorf("%d calls for bad settings", srv.Count())
	}
}

func TestParseLabels(t *testing.T) {
	tests := []struct {
		reply  string
		labels []string
		warn   string
		fails  bool
	}{
		{"[happy, excited]", []string{"happy", "excited"}, "", false},
		{"['worried', 'helpless']", []string{"worried", "helpless"}, "", false},
		{"Output: [Sad, Disappointed]", []string{"sad", "disappointed"}, "", false},
		{"[happy]\nInput: He cries; Output: [sad]", []string{"happy"}, "", false},
		{"[]", nil, "the model identified no emotion", false},
		{"happy, sad", []string{"happy", "sad"}, "", false},
		{"anxious.", []string{"anxious"}, "", false},
		{"[happy, 'sad]", []string{"happy", "sad"}, "malformed label list", false},
		{"The main character seems happy and a bit excited.", nil, "", true},
		{"We cannot recognize his emotional state", nil, "", true},
		{"happy\n\nThe clues show a smile.", []string{"happy"}, "", false},
		{"1. happy 2. sad", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.reply, func(t *testing.T) {
			got, warn, f := parseLabels(tt.reply)
			if (f != nil) != tt.fails {
				t.Fatalf("failure = %v, want failed %v", f, tt.fails)
			}
			if f != nil {
				if f.Kind != reply.Unparsed || f.Raw != tt.reply {
					t.Errorf("failure %+v does not keep the reply", f)
				}
				return
			}
			if diff := cmp.Diff(tt.labels, got); diff != "" && !(len(tt.labels) == 0 && len(got) == 0) {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if !strings.Contains(warn, tt.warn) || (tt.warn == "") != (warn == "") {
				t.Errorf("warning %q, want %q", warn, tt.warn)
			}
		})
	}
}

func TestBuildParts(t *testing.T) {
	frames := []Frame{{JPEG: []byte("a")}, {JPEG: []byte("b")}}
	kinds := func(ps []llm.Part) string {
		var out []string
		for _, p := range ps {
			s := string(p.Kind)
			if p.Kind == llm.KindText {
				s += ":" + p.Text
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		prompt string
		frames []Frame
		wav    []byte
		want   string
	}{
		{"Q", frames, fakeWAV, "image image audio text:Q"},
		{"A<AudioHere>B<ImageHere>C", frames, fakeWAV, "text:A audio text:B image image text:C"},
		{"<FrameHere>C", frames, nil, "image image text:C"},
		{"A<AudioHere>B<ImageHere>C", nil, nil, "text:A text:B text:C"},
		{"A<ImageHere>B", frames, fakeWAV, "audio text:A image image text:B"},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			if got := kinds(buildParts(tt.prompt, tt.frames, tt.wav)); got != tt.want {
				t.Errorf("parts %s, want %s", got, tt.want)
			}
		})
	}
}
