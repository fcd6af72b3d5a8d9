package summarize

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

// promptCases are the inputs rendered into golden files, by language: the
// English templates get the English cases, the _zh ones the Chinese.
var promptCases = map[string]map[string]PromptData{
	English: {
		"three": {
			Descriptions: []string{
				"He frowns and looks at the floor. His voice is low and slow. He says he is fine. A dim hospital corridor.",
				"His brows are knitted. He speaks quietly, with pauses. He says \"I'm fine\" but hesitates. He waits outside a ward.",
				"He lowers his head. His tone is flat. He claims to be fine. The corridor is empty.",
			},
			Clues:    "he frowns, lowers his head and speaks quietly with pauses, saying he is fine while hesitating, in an empty hospital corridor",
			Emotions: "worried",
		},
		"one": {
			Descriptions: []string{"He smiles broadly. His voice rises. He thanks his friend. A birthday party."},
			Clues:        "he smiles broadly and his voice rises as he thanks his friend at a birthday party",
			Emotions:     "happy, grateful",
		},
		"empty": {},
	},
	Chinese: {
		"three": {
			Descriptions: []string{
				"他皱着眉头，低头看地面。声音低沉，语速很慢。他说自己没事。昏暗的医院走廊。",
				"他眉头紧锁。说话声音很小，有停顿。他说“我没事”，但有些犹豫。他在病房外等候。",
				"他低着头。语气平淡。他声称自己没事。走廊里空无一人。",
			},
			Clues:    "他皱着眉头，低着头，说话声音很小且有停顿，犹豫地说自己没事，身处空荡的医院走廊",
			Emotions: "担忧",
		},
		"one": {
			Descriptions: []string{"他开怀大笑。声音上扬。他向朋友道谢。生日聚会。"},
			Clues:        "他开怀大笑，声音上扬，在生日聚会上向朋友道谢",
			Emotions:     "高兴、感激",
		},
		"empty": {},
	},
}

func TestPromptGolden(t *testing.T) {
	for _, name := range TemplateNames() {
		lang := English
		if strings.HasSuffix(name, "_zh") {
			lang = Chinese
		}
		for c, d := range promptCases[lang] {
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

// Every English template has its Chinese form and no other.
func TestPromptLanguages(t *testing.T) {
	names := TemplateNames()
	want := []string{TemplateClues, TemplateClues + "_zh", TemplateCombine, TemplateCombine + "_zh", TemplateEmotion, TemplateEmotion + "_zh"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("templates %v, want %v", names, want)
	}
}

// quoted returns the blockquote of EMER.md that starts with start, its
// words joined by single spaces.
func quoted(t *testing.T, doc, start string) string {
	t.Helper()
	i := strings.Index(doc, "> "+start)
	if i < 0 {
		t.Fatalf("EMER.md quotes no %q", start)
	}
	var words []string
	for _, l := range strings.Split(doc[i:], "\n") {
		if !strings.HasPrefix(l, ">") {
			break
		}
		words = append(words, strings.Fields(strings.TrimPrefix(l, ">"))...)
	}
	return strings.Join(words, " ")
}

// TestPromptsVerbatim checks the English prompts against EMER.md's
// quotes, word for word (the quotes wrap lines where the prompts break
// them), placeholders filled with their names.
func TestPromptsVerbatim(t *testing.T) {
	b, err := os.ReadFile(sharedtest.Path(t, "docs", "EMER.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, tc := range []struct {
		tmpl  string
		data  PromptData
		start string
	}{
		{TemplateClues, PromptData{}, "Several descriptions of a video"},
		{TemplateEmotion, PromptData{Clues: "{clues}"}, "Summarize the emotional state"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			got, err := Render(tc.tmpl, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if want := quoted(t, doc, tc.start); words(got) != want {
				t.Errorf("%s differs from EMER.md:\n got: %q\nwant: %q", tc.tmpl, words(got), want)
			}
		})
	}
	t.Run(TemplateCombine, func(t *testing.T) {
		m := regexp.MustCompile(`uses the form "(In the video, \{clues\}\. Therefore, [^"]+)"`).FindStringSubmatch(words(doc))
		if m == nil {
			t.Fatal("EMER.md states no combination form")
		}
		got, err := Render(TemplateCombine, PromptData{Clues: "{clues}", Emotions: "{emotions}"})
		if err != nil {
			t.Fatal(err)
		}
		if got != m[1] {
			t.Errorf("combine = %q, EMER.md %q", got, m[1])
		}
	})
}

// The Chinese combination is the commonest form of the released Chinese
// descriptions: nearly all of EMER-V1's open as it does, and most state
// their emotion as it does.
func TestCombineChineseForm(t *testing.T) {
	b, err := os.ReadFile(sharedtest.Data(t, "emer-v1", "gt-chi.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Render(TemplateCombine+"_zh", PromptData{Clues: "X", Emotions: "Y"})
	if err != nil {
		t.Fatal(err)
	}
	head, tail, _ := strings.Cut(got, "X")
	mid, end, _ := strings.Cut(tail, "Y")
	if n := strings.Count(string(b), head); n < 90 {
		t.Errorf("%d Chinese descriptions open with %q, want most of the 100", n, head)
	}
	if n := strings.Count(string(b), mid); n < 70 || end != "。" {
		t.Errorf("%d Chinese descriptions conclude with %q (then %q)", n, mid, end)
	}
}
