package explain

import (
	"embed"
	"fmt"
	"strings"

	"emer/internal/prompt"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// templates holds every prompt, by file name without extension.
var templates = prompt.MustLoad(promptFS, "prompts", nil)

// PromptData is what a prompt template can refer to.
type PromptData struct {
	Subtitle string // the clip's subtitle, quoted in <Subtitle>
	Frames   int    // the number of frames sent with the prompt
	Audio    bool   // whether the audio is sent with the prompt
	Caption  string // caption mode: the description of the frames
	Cues     string // cues mode: the measured cues (CueSummary)
	Text     string // ov_extract: the reasoning to extract labels from
}

// Render fills the named prompt template.
func Render(name string, d PromptData) (string, error) { return templates.Render(name, d) }

// TemplateNames returns the names of all prompt templates, sorted.
func TemplateNames() []string { return templates.Names() }

// PromptSHA256 is the digest of the prompt templates' sources: equal in
// two emers that prompt alike.
func PromptSHA256() string { return templates.SHA256() }

// The reasoning prompts of the llm backend.
const (
	PromptEMER          = "emer"          // the EMER paper's baseline prompt
	PromptAffectGPT2023 = "affectgpt2023" // AffectGPT (2023), Video-LLaMA based
	PromptAffectGPT2025 = "affectgpt2025" // AffectGPT (2025), frame mode, description
)

// Prompts lists the reasoning prompts.
var Prompts = []string{PromptEMER, PromptAffectGPT2023, PromptAffectGPT2025}

// Templates of the other steps.
const (
	templateCaption   = "caption"    // caption mode's description of the frames
	templateOVExtract = "ov_extract" // the AffectGPT 2025 label extraction
)

// reasoningTemplate returns the template of a reasoning prompt in a
// language. Only the EMER prompt has a Chinese form: the AffectGPT models
// were trained on their English prompts, which stay as they are.
func reasoningTemplate(prompt, lang string) (string, error) {
	switch prompt {
	case PromptEMER:
		if lang == Chinese {
			return "emer_zh", nil
		}
		return prompt, nil
	case PromptAffectGPT2023, PromptAffectGPT2025:
		if lang == Chinese {
			return "", fmt.Errorf("prompt %s has no Chinese form (only %s has)", prompt, PromptEMER)
		}
		return prompt, nil
	}
	return "", fmt.Errorf("unknown prompt %q (want %s)", prompt, strings.Join(Prompts, ", "))
}

// Media markers in the templates: where the frames and the audio go.
const (
	markerImage = "<ImageHere>"
	markerFrame = "<FrameHere>"
	markerAudio = "<AudioHere>"
)
