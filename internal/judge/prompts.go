package judge

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"sort"

	"emer/internal/prompt"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// templates holds every prompt, by file name without extension.
var templates = prompt.MustLoad(promptFS, "prompts", nil)

// PromptData is what a prompt template can refer to: one text ({{.Text}})
// for single-input prompts, or a ground truth and a prediction ({{.GT}},
// {{.Pred}}).
type PromptData struct {
	Text, GT, Pred string
}

// Render fills the named prompt template.
func Render(name string, d PromptData) (string, error) { return templates.Render(name, d) }

// PromptNames returns the names of all prompt templates, sorted.
func PromptNames() []string { return templates.Names() }

// promptsSHA256 hashes the named templates' sources, in name order.
func promptsSHA256(names []string) string {
	names = append([]string(nil), names...)
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := templates.Source(n)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
