package explain

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"emer/internal/prompt/prompttest"
	"emer/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// promptCases are the inputs rendered into golden files for every prompt.
var promptCases = map[string]PromptData{
	"basic": {Subtitle: "Hello there. I am so happy to see you today.", Frames: 8,
		Text: "In the video, he smiled, the corners of his mouth turned up. Therefore, it is inferred that his emotional state is happy."},
	"audio": {Subtitle: "Don't talk to me about feelings anymore.", Frames: 8, Audio: true,
		Text: "In the video, he roared and spoke loudly. Therefore, it is inferred that his emotional state is anger."},
	"zh": {Subtitle: "别再跟我说感觉。", Frames: 4,
		Text: "在视频中，他怒吼，言辞激动。因此，推测他的情绪状态是生气。"},
	"caption": {Subtitle: "This is wonderful news.",
		Caption: "A man in a grey suit smiles broadly and nods; the corners of his mouth stay raised throughout."},
	"cues": {Subtitle: "This is wonderful news.", Frames: 8, Audio: true,
		Cues: "Face (main face, track 1, 15 frames): dominant expression happy 0.0-7.5 s (mean probability 0.97); mean expression probabilities happy 0.97, neutral 0.03.\n" +
			"Voice: mean pitch 101 Hz (sd 11 Hz, range 76-119 Hz), intensity 39.7 dB, 2.7 voiced segments per second over 1.1-5.9 s.\n" +
			"Subtitle (en): emotion words \"wonderful\" (happy, 3.2-6.0 s); valence +0.57 (vader); 1 sentences, 0 exclamations, 0 questions."},
	"empty": {},
}

func TestPromptGolden(t *testing.T) {
	for _, name := range TemplateNames() {
		for c, d := range promptCases {
			t.Run(name+"/"+c, func(t *testing.T) {
				got, err := Render(name, d)
				if err != nil {
					t.Fatal(err)
				}
				prompttest.Golden(t, name, c, got, *update)
			})
		}
	}
}

// quoted returns the blockquote of EMER.md's text that starts with start,
// its lines joined by spaces as Markdown reads them.
func quoted(t *testing.T, doc, start string) string {
	t.Helper()
	i := strings.Index(doc, "> "+start)
	if i < 0 {
		t.Fatalf("EMER.md quotes no %q", start)
	}
	var lines []string
	for _, l := range strings.Split(doc[i:], "\n") {
		if !strings.HasPrefix(l, ">") {
			break
		}
		lines = append(lines, strings.TrimSpace(strings.TrimPrefix(l, ">")))
	}
	return strings.Join(lines, " ")
}

// TestPromptsVerbatim checks the prompts that have a published form
// against EMER.md's quotes, placeholders filled with their names.
func TestPromptsVerbatim(t *testing.T) {
	doc, err := os.ReadFile(sharedtest.Path(t, "docs", "EMER.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	tests := []struct {
		prompt string
		data   PromptData
		start  string
	}{
		{"emer", PromptData{Subtitle: "{subtitle}", Frames: 8}, "The subtitle of this video is <Subtitle>"},
		{"affectgpt2023", PromptData{Subtitle: "{subtitle}", Frames: 8, Audio: true}, "###Human: Close your eyes"},
		{"ov_extract", PromptData{Text: "{multi_reason}"}, "Please assume the role"},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			got, err := Render(tt.prompt, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if want := quoted(t, s, tt.start); got != want {
				t.Errorf("%s differs from EMER.md:\n got: %q\nwant: %q", tt.prompt, got, want)
			}
		})
	}
}

// TestAffectGPT2025Segments checks the 2025 prompt against the segments
// EMER.md quotes: its opening and closing, and the subtitle and user
// message as they stand there.
func TestAffectGPT2025Segments(t *testing.T) {
	doc, err := os.ReadFile(sharedtest.Path(t, "docs", "EMER.md"))
	if err != nil {
		t.Fatal(err)
	}
	q := quoted(t, string(doc), "###Human: The audio and video merged info is")
	got, err := Render("affectgpt2025", PromptData{Subtitle: "{subtitle}", Frames: 8, Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range []string{
		"###Human: ",
		"The audio content is as follows: <Audio><AudioHere></Audio>. ",
		"The subtitle of this video is: <Subtitle>{subtitle}</Subtitle>. Now, please answer my question based on all the provided information. ",
	} {
		if !strings.Contains(q, seg) || !strings.Contains(got, seg) {
			t.Errorf("segment %q: in EMER.md %v, in the prompt %v", seg, strings.Contains(q, seg), strings.Contains(got, seg))
		}
	}
	flat := strings.Join(strings.Fields(string(doc)), " ")
	msg := regexp.MustCompile(`"(Please infer the person's emotional state and provide your reasoning process\.)" \(description\)`).FindStringSubmatch(flat)
	if msg == nil || !strings.HasSuffix(got, msg[1]+" ###Assistant:") {
		t.Errorf("the prompt does not end with the description user message: %q", got)
	}
}

func TestReasoningTemplate(t *testing.T) {
	tests := []struct {
		prompt, lang, want string
		fails              bool
	}{
		{"emer", English, "emer", false},
		{"emer", Chinese, "emer_zh", false},
		{"affectgpt2023", English, "affectgpt2023", false},
		{"affectgpt2025", English, "affectgpt2025", false},
		{"affectgpt2023", Chinese, "", true},
		{"gpt4v", English, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.prompt+"/"+tt.lang, func(t *testing.T) {
			got, err := reasoningTemplate(tt.prompt, tt.lang)
			if (err != nil) != tt.fails || got != tt.want {
				t.Errorf("reasoningTemplate = %q, %v", got, err)
			}
		})
	}
}
