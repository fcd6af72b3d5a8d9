package judge

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"text/template"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// templates holds every prompt, by file name without extension.
var templates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	names, err := fs.Glob(promptFS, "prompts/*.tmpl")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		b, err := promptFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(n, "prompts/"), ".tmpl")
		out[name] = template.Must(template.New(name).Option("missingkey=error").Parse(string(b)))
	}
	return out
}()

// PromptData is what a prompt template can refer to: one text ({{.Text}})
// for single-input prompts, or a ground truth and a prediction ({{.GT}},
// {{.Pred}}).
type PromptData struct {
	Text, GT, Pred string
}

// Render fills the named prompt template.
func Render(name string, d PromptData) (string, error) {
	t, ok := templates[name]
	if !ok {
		return "", fmt.Errorf("no prompt %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// PromptNames returns the names of all prompt templates, sorted.
func PromptNames() []string {
	out := make([]string, 0, len(templates))
	for n := range templates {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// promptsSHA256 hashes the named templates' sources, in name order.
func promptsSHA256(names []string) string {
	names = append([]string(nil), names...)
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := promptFS.ReadFile("prompts/" + n + ".tmpl")
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
