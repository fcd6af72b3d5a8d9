package summarize

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/dataset"
	"emer/internal/llm"
	"emer/internal/reply"
)

// fakeModel answers each step by the kind of its prompt.
type fakeModel struct {
	clues, emotion, labels llm.Reply
	err                    error // returned for every call when set

	mu      sync.Mutex
	prompts []string
}

func (f *fakeModel) Chat(_ context.Context, req llm.Request) (llm.Reply, error) {
	p := req.Messages[0].Parts[0].Text
	f.mu.Lock()
	f.prompts = append(f.prompts, p)
	f.mu.Unlock()
	if f.err != nil {
		return llm.Reply{}, f.err
	}
	switch stepOf(p) {
	case StepClues:
		return f.clues, nil
	case StepEmotion:
		return f.emotion, nil
	}
	return f.labels, nil
}

// stepOf tells the step a prompt is for.
func stepOf(p string) string {
	switch {
	case strings.HasPrefix(p, "Several descriptions"), strings.HasPrefix(p, "下面给出了"):
		return StepClues
	case strings.HasPrefix(p, "Summarize the emotional state"), strings.HasPrefix(p, "请总结这个人"):
		return StepEmotion
	case strings.HasPrefix(p, "Please assume the role"):
		return StepLabels
	}
	return "unknown"
}

func text(s string) llm.Reply { return llm.Reply{Text: s, FinishReason: "stop"} }

func TestSummarize(t *testing.T) {
	const clues = "He frowns and speaks quietly."
	const desc = "In the video, he frowns and speaks quietly. Therefore, it is inferred that his emotional state is worried."
	okSteps := func(emotion, labels string) []Step {
		return []Step{{Step: StepClues, Reply: clues, FinishReason: "stop"}, {Step: StepEmotion, Reply: emotion, FinishReason: "stop"}, {Step: StepLabels, Reply: labels, FinishReason: "stop"}}
	}
	for _, tc := range []struct {
		name string
		lang string
		m    *fakeModel
		want Result
	}{
		{"ok", English, &fakeModel{clues: text(clues), emotion: text("worried"), labels: text("[worried, sad]")},
			Result{Status: StatusOK, Clues: clues, Emotions: "worried", Description: desc, Openset: []string{"worried", "sad"}, Steps: okSteps("worried", "[worried, sad]")}},
		{"echoed output label", English, &fakeModel{clues: text(clues), emotion: text("Output: worried.\nHe seems tense."), labels: text("[worried]")},
			Result{Status: StatusOK, Clues: clues, Emotions: "worried", Description: desc, Openset: []string{"worried"}, Steps: okSteps("Output: worried.\nHe seems tense.", "[worried]")}},
		{"neutral", English, &fakeModel{clues: text(clues), emotion: text("neutral"), labels: text("[neutral]")},
			Result{Status: StatusOK, Clues: clues, Emotions: "neutral", Openset: []string{"neutral"},
				Description: "In the video, he frowns and speaks quietly. Therefore, it is inferred that his emotional state is neutral.", Steps: okSteps("neutral", "[neutral]")}},
		{"clues refused", English, &fakeModel{clues: text("I'm sorry, but I can't help with that.")},
			Result{Status: StatusReview, Openset: []string{}, Review: []string{"clues: the reply declines the task: I'm sorry, but I can't help with that."},
				Steps: []Step{{Step: StepClues, Reply: "I'm sorry, but I can't help with that.", FinishReason: "stop", Problem: reply.ReasonDeclines}}}},
		{"clues cut at the token limit", English, &fakeModel{clues: llm.Reply{Text: "He frowns and", FinishReason: "length"}},
			Result{Status: StatusReview, Openset: []string{}, Review: []string{"clues: " + reply.ReasonTruncated + ": He frowns and"},
				Steps: []Step{{Step: StepClues, Reply: "He frowns and", FinishReason: "length", Problem: reply.ReasonTruncated}}}},
		{"emotion empty", English, &fakeModel{clues: text(clues), emotion: text("  \n")},
			Result{Status: StatusReview, Clues: clues, Openset: []string{}, Review: []string{"emotion: " + reply.ReasonEmpty},
				Steps: []Step{okSteps("", "")[0], {Step: StepEmotion, Reply: "  \n", FinishReason: "stop", Problem: reply.ReasonEmpty}}}},
		{"emotion refused by the server", English, &fakeModel{clues: text(clues), emotion: llm.Reply{Refusal: "policy", FinishReason: "stop"}},
			Result{Status: StatusReview, Clues: clues, Openset: []string{}, Review: []string{"emotion: " + reply.ReasonRefused + ": policy"},
				Steps: []Step{okSteps("", "")[0], {Step: StepEmotion, FinishReason: "stop", Refusal: "policy", Problem: reply.ReasonRefused}}}},
		{"no emotion word", English, &fakeModel{clues: text(clues), emotion: text("banana"), labels: text("[]")},
			Result{Status: StatusReview, Clues: clues, Emotions: "banana", Openset: []string{},
				Description: "In the video, he frowns and speaks quietly. Therefore, it is inferred that his emotional state is banana.",
				Review:      []string{"emotion: " + ReasonNoEmotionWord + ": banana", "labels: " + ReasonNoLabels + ": []"},
				Steps: []Step{okSteps("", "")[0], {Step: StepEmotion, Reply: "banana", FinishReason: "stop", Problem: ReasonNoEmotionWord},
					{Step: StepLabels, Reply: "[]", FinishReason: "stop", Problem: ReasonNoLabels}}}},
		{"labels unreadable", English, &fakeModel{clues: text(clues), emotion: text("worried"), labels: text("He seems to be worried about many things today.")},
			Result{Status: StatusReview, Clues: clues, Emotions: "worried", Description: desc, Openset: []string{},
				Review: []string{"labels: no list of labels in the reply: He seems to be worried about many things today."},
				Steps: []Step{okSteps("", "")[0], okSteps("worried", "")[1],
					{Step: StepLabels, Reply: "He seems to be worried about many things today.", FinishReason: "stop", Problem: "no list of labels in the reply"}}}},
		{"no reply", English, &fakeModel{err: errors.New("connection refused")},
			Result{Status: StatusRetry, Openset: []string{}, Error: "clues: connection refused", Steps: []Step{}}},
		{"chinese", Chinese, &fakeModel{clues: text("他皱着眉头，说话声音很小。"), emotion: text("输出：担忧"), labels: text("[worried]")},
			Result{Status: StatusOK, Clues: "他皱着眉头，说话声音很小。", Emotions: "担忧", Openset: []string{"worried"},
				Description: "在视频中，他皱着眉头，说话声音很小，推测他的情感状态为担忧。",
				Steps: []Step{{Step: StepClues, Reply: "他皱着眉头，说话声音很小。", FinishReason: "stop"}, {Step: StepEmotion, Reply: "输出：担忧", FinishReason: "stop"},
					{Step: StepLabels, Reply: "[worried]", FinishReason: "stop"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Summarizer{Client: tc.m, Model: "m", Lang: tc.lang}
			got := s.Summarize(context.Background(), Clip{Name: "c", Descriptions: []string{"He frowns.", "He speaks quietly."}})
			tc.want.Name = "c"
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			for i, p := range tc.m.prompts {
				if want := []string{StepClues, StepEmotion, StepLabels}[i]; stepOf(p) != want {
					t.Errorf("call %d is for %s, want %s", i+1, stepOf(p), want)
				}
			}
		})
	}
}

func TestCombine(t *testing.T) {
	for _, tc := range []struct{ name, lang, clues, emotions, want string }{
		{"pronoun lowered", English, "He frowns.", "sad", "In the video, he frowns. Therefore, it is inferred that his emotional state is sad."},
		{"name kept", English, "Tom frowns.", "sad", "In the video, Tom frowns. Therefore, it is inferred that his emotional state is sad."},
		{"leading phrase dropped", English, "In the video, his voice shakes...", "scared", "In the video, his voice shakes. Therefore, it is inferred that his emotional state is scared."},
		{"quoted start", English, `"Fine," he says.`, "angry", `In the video, "Fine," he says. Therefore, it is inferred that his emotional state is angry.`},
		{"lines folded", English, "He frowns.\n\n  His voice is low.  ", "sad", "In the video, he frowns. His voice is low. Therefore, it is inferred that his emotional state is sad."},
		{"chinese", Chinese, "在视频中，他皱眉。\n他声音低沉。", "悲伤", "在视频中，他皱眉。他声音低沉，推测他的情感状态为悲伤。"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Combine(tc.lang, tc.clues, tc.emotions)
			if err != nil || got != tc.want {
				t.Errorf("Combine = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParagraphs(t *testing.T) {
	a := func(annotator string, asp dataset.Aspect, text string) dataset.Annotation {
		return dataset.Annotation{Clip: "c", Annotator: annotator, Aspect: asp, Text: text}
	}
	recs := []dataset.Annotation{
		a("b", dataset.Context, "A party"),
		a("a", dataset.Audio, "His voice is   loud!"),
		a("b", dataset.Visual, "He grins."),
		a("a", dataset.Visual, "He laughs"),
	}
	want := []string{"He laughs. His voice is loud!", "He grins. A party."}
	if diff := cmp.Diff(want, Paragraphs(recs, English)); diff != "" {
		t.Errorf("English (-want +got):\n%s", diff)
	}
	zh := []dataset.Annotation{a("a", dataset.Visual, "他笑了"), a("a", dataset.Audio, "声音很大。")}
	if diff := cmp.Diff([]string{"他笑了。声音很大。"}, Paragraphs(zh, Chinese)); diff != "" {
		t.Errorf("Chinese (-want +got):\n%s", diff)
	}
}

func TestHasEmotionWord(t *testing.T) {
	s := &Summarizer{}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"anxious", true}, {"happy, grateful", true}, {"Neutral", true}, {"not happy", true},
		{"担忧", true}, {"焦虑、无奈", true}, {"中性", true},
		{"banana", false}, {"the person", false}, {"", false}, {"香蕉", false}, {"neutrality", false},
	} {
		if got := s.hasEmotionWord(tc.text); got != tc.want {
			t.Errorf("hasEmotionWord(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
