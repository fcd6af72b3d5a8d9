package judge

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
	"basic": {Text: "He frowns and shouts.", GT: "He frowns; his voice is loud.", Pred: "He shouts."},
	"zh":    {Text: "在视频中，他怒吼，眼睛瞪大。", GT: "在视频中，他怒吼，言辞激动。因此推测他的情感状态为生气。", Pred: "这个人似乎很沮丧。"},
	"empty": {},
}

func TestPromptGolden(t *testing.T) {
	for _, name := range PromptNames() {
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

// TestReleasePromptsVerbatim checks the release prompts byte for byte
// against the released scorer's text as quoted in EMER.md section 4b.
func TestReleasePromptsVerbatim(t *testing.T) {
	doc, err := os.ReadFile(sharedtest.Path(t, "docs", "EMER.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start, end := strings.Index(s, "### 4b."), strings.Index(s, "## 5.")
	if start < 0 || end < start {
		t.Fatal("EMER.md has no section 4b")
	}
	blocks := regexp.MustCompile("(?s)```\n(.*?)\n```").FindAllStringSubmatch(s[start:end], -1)
	if len(blocks) != 3 {
		t.Fatalf("section 4b has %d code blocks, want 3", len(blocks))
	}
	tests := []struct {
		prompt string
		data   PromptData
		block  string
	}{
		{"release_clue", PromptData{GT: "{gt_reason}", Pred: "{pred_reason}"}, blocks[0][1]},
		{"release_emotion_summary", PromptData{Text: "{reason}"}, blocks[1][1]},
		{"release_emotion_score", PromptData{GT: "{gt}", Pred: "{pred}"}, blocks[2][1]},
	}
	for _, tt := range tests {
		got, err := Render(tt.prompt, tt.data)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.block {
			t.Errorf("%s differs from EMER.md:\n got: %q\nwant: %q", tt.prompt, got, tt.block)
		}
	}
}

func TestProtocolPromptSHA(t *testing.T) {
	paper, _ := LookupProtocol("paper")
	release, _ := LookupProtocol("release")
	if len(paper.PromptSHA256()) != 64 || paper.PromptSHA256() == release.PromptSHA256() {
		t.Errorf("prompt digests %q %q", paper.PromptSHA256(), release.PromptSHA256())
	}
	if _, err := LookupProtocol("gpt4"); err == nil {
		t.Error("unknown protocol accepted")
	}
}
