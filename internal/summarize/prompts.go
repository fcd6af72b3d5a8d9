package summarize

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"text/template"

	"emer/internal/explain"
	"emer/internal/prompt"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// Languages of the prompts and of the descriptions they make.
const (
	English = "en"
	Chinese = "zh"
)

// The templates, by step; a Chinese template is the name with "_zh".
const (
	TemplateClues   = "clues"   // clue summarization
	TemplateEmotion = "emotion" // few-shot emotion summarization
	TemplateCombine = "combine" // the description made of both, filled in without a model
)

// templateOVExtract is explain's AffectGPT 2025 label extraction, the
// same prompt in both languages (the labels are English words).
const templateOVExtract = "ov_extract"

var funcs = template.FuncMap{"inc": func(i int) int { return i + 1 }}

// templates holds every prompt, by file name without extension.
var templates = prompt.MustLoad(promptFS, "prompts", funcs)

// PromptData is what a template can refer to.
type PromptData struct {
	// Descriptions are the clue paragraphs of a clip, one per annotator
	// (clues).
	Descriptions []string
	Clues        string // the clue summary (emotion, combine)
	Emotions     string // the emotion summary (combine)
}

// Render fills the named template.
func Render(name string, d PromptData) (string, error) { return templates.Render(name, d) }

// TemplateNames returns the names of all templates, sorted.
func TemplateNames() []string { return templates.Names() }

// templateFor returns the name of a step's template in lang.
func templateFor(step, lang string) string {
	if lang == Chinese {
		return step + "_zh"
	}
	return step
}

// PromptsSHA256 identifies the prompts: the SHA-256 of every template
// file of the package and of the extraction prompt as explain renders it.
// A change of any of them makes every clip be summarized again.
func PromptsSHA256() string {
	h := sha256.New()
	for _, n := range TemplateNames() {
		b, _ := templates.Source(n)
		fmt.Fprintf(h, "%s\x00%d\x00%s", n, len(b), b)
	}
	ov, err := explain.Render(templateOVExtract, explain.PromptData{Text: "\x00"})
	if err != nil {
		panic("summarize: " + err.Error())
	}
	fmt.Fprintf(h, "%s\x00%d\x00%s", templateOVExtract, len(ov), ov)
	return hex.EncodeToString(h.Sum(nil))
}
