package reply_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"emer/internal/llm"
	"emer/internal/reply"
)

func TestAnswer(t *testing.T) {
	tests := []struct {
		name  string
		reply llm.Reply
		text  string
		fail  *reply.Failure
	}{
		{"plain", llm.Reply{Text: "  He smiles.\n", FinishReason: "stop"}, "He smiles.", nil},
		{"server refusal", llm.Reply{Text: "", Refusal: "I can't help with that."},
			"", &reply.Failure{Kind: reply.Refused, Reason: reply.ReasonRefused, Raw: "I can't help with that."}},
		{"cut at the token limit", llm.Reply{Text: "In the video, he", FinishReason: "length"},
			"", &reply.Failure{Kind: reply.Truncated, Reason: reply.ReasonTruncated, Raw: "In the video, he"}},
		{"refusal wins over length", llm.Reply{Text: "x", Refusal: "no", FinishReason: "length"},
			"", &reply.Failure{Kind: reply.Refused, Reason: reply.ReasonRefused, Raw: "no"}},
		{"empty", llm.Reply{Text: " \n\t"}, "", &reply.Failure{Kind: reply.Empty, Reason: reply.ReasonEmpty, Raw: " \n\t"}},
		{"declines en", llm.Reply{Text: " I'm sorry, but I cannot analyse this video."},
			"", &reply.Failure{Kind: reply.Refused, Reason: reply.ReasonDeclines, Raw: "I'm sorry, but I cannot analyse this video."}},
		{"declines zh", llm.Reply{Text: "抱歉，我无法分析这段视频。"},
			"", &reply.Failure{Kind: reply.Refused, Reason: reply.ReasonDeclines, Raw: "抱歉，我无法分析这段视频。"}},
		{"declines in full-width", llm.Reply{Text: "Ｉ　ｃａｎｎｏｔ do that"},
			"", &reply.Failure{Kind: reply.Refused, Reason: reply.ReasonDeclines, Raw: "Ｉ　ｃａｎｎｏｔ do that"}},
		{"quotes an apology", llm.Reply{Text: `He says "I'm sorry" and looks down.`}, `He says "I'm sorry" and looks down.`, nil},
		{"sorrow in zh", llm.Reply{Text: "愧疚、抱歉"}, "愧疚、抱歉", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, f := reply.Answer(tt.reply)
			if text != tt.text {
				t.Errorf("text = %q, want %q", text, tt.text)
			}
			if diff := cmp.Diff(tt.fail, f); diff != "" {
				t.Errorf("failure (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckLeavesTextAlone(t *testing.T) {
	// Check looks at the server's fields only: an empty or declining text
	// is for the caller to judge (a score parser reads "" as no score).
	for _, r := range []llm.Reply{{Text: ""}, {Text: "I'm sorry, I cannot."}, {Text: "7", FinishReason: "stop"}} {
		if f := reply.Check(r); f != nil {
			t.Errorf("Check(%+v) = %v, want nil", r, f)
		}
	}
}

func TestFailureError(t *testing.T) {
	long := strings.Repeat("很长的回答", 100)
	tests := []struct {
		name     string
		f        *reply.Failure
		sentinel error
		msg      string
	}{
		{"truncated", &reply.Failure{Kind: reply.Truncated, Reason: reply.ReasonTruncated, Raw: "In the\nvideo,  he"}, reply.ErrTruncated,
			"reply cut off at the token limit (finish_reason length): In the video, he"},
		{"empty", &reply.Failure{Kind: reply.Empty, Reason: reply.ReasonEmpty}, reply.ErrEmpty, "empty reply"},
		{"refused", &reply.Failure{Kind: reply.Refused, Reason: reply.ReasonRefused, Raw: "no"}, reply.ErrRefused, "the server marks the reply as a refusal: no"},
		{"parse", reply.ParseFailure("happy and sad", "no [list] in the reply"), reply.ErrUnparsed, "no [list] in the reply: happy and sad"},
		{"long raw quoted short", reply.ParseFailure(long, "no list"), reply.ErrUnparsed, "no list: " + reply.Excerpt(long, 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = tt.f
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("%v does not unwrap to %v", err, tt.sentinel)
			}
			if err.Error() != tt.msg {
				t.Errorf("message = %q, want %q", err.Error(), tt.msg)
			}
			var f *reply.Failure
			if !errors.As(err, &f) || f.Raw != tt.f.Raw {
				t.Errorf("raw text lost: %+v", f)
			}
		})
	}
	if got := reply.Excerpt(long, 200); len(got) > 200+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("excerpt of %d bytes: %q", len(got), got)
	}
}

func TestRefusesAndDeclines(t *testing.T) {
	tests := []struct {
		text              string
		refuses, declines bool
	}{
		{"I'm sorry, but I can't help with that request.", true, true},
		{"As an AI, I cannot judge 2 descriptions.", true, true},
		{"抱歉，我无法完成这个评分任务。", true, true},
		{"Score: I'm sorry, I cannot rate this.", true, false},
		{`He says "I'm sorry" and looks down.`, true, false},
		{"他说对不起", true, false},
		{"Score: 7", false, false},
		{"他很高兴", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := reply.Refuses(tt.text); got != tt.refuses {
				t.Errorf("Refuses = %v, want %v", got, tt.refuses)
			}
			if got := reply.Declines(tt.text); got != tt.declines {
				t.Errorf("Declines = %v, want %v", got, tt.declines)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	if got, want := reply.Normalize("Ｓｃｏｒｅ：８　−１–２"), "Score:8 -1-2"; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
}
