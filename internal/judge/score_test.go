package judge

import "testing"

func TestParseScore(t *testing.T) {
	tests := []struct {
		name   string
		reply  string
		lo, hi float64
		status Status
		score  float64
	}{
		{"release format", "'预测分数'：7；'原因'：预测描述提到了3个线索，与真实描述有2处重叠。", 1, 10, StatusOK, 7},
		{"release format, ascii colon", "'预测分数': 6; '原因': 部分重叠", 1, 10, StatusOK, 6},
		{"release, no quotes", "预测分数：8\n原因：情感一致", 1, 10, StatusOK, 8},
		{"full-width digits", "'预测分数'：８；'原因'：基本一致", 1, 10, StatusOK, 8},
		{"full-width everything", "预测分数：１０", 1, 10, StatusOK, 10},
		{"得分为", "该预测的得分为6分，因为情感基本一致。", 1, 10, StatusOK, 6},
		{"Score: 8", "Score: 8", 0, 10, StatusOK, 8},
		{"score lower case with reason", "score: 3. The predicted clues cover 1 of 4 true clues.", 0, 10, StatusOK, 3},
		{"bold fraction", "**8/10**", 0, 10, StatusOK, 8},
		{"fraction in prose", "I would give this 7 / 10 because 2 clues match.", 0, 10, StatusOK, 7},
		{"out of", "That is 6 out of 10.", 0, 10, StatusOK, 6},
		{"bare number", "7", 0, 10, StatusOK, 7},
		{"bare number with period", " 9.\n", 0, 10, StatusOK, 9},
		{"decimal", "Score: 7.5", 0, 10, StatusOK, 7.5},
		{"points", "我给7分。", 1, 10, StatusOK, 7},
		{"zero in paper range", "Score: 0", 0, 10, StatusOK, 0},
		{"zero below release range", "'预测分数'：0；'原因'：完全不同", 1, 10, StatusOutOfRange, 0},
		{"15", "15", 0, 10, StatusOutOfRange, 0},
		{"labelled 15", "'预测分数'：15；'原因'：很好", 1, 10, StatusOutOfRange, 0},
		{"-1", "-1", 0, 10, StatusOutOfRange, 0},
		{"labelled -1", "Score: -1", 0, 10, StatusOutOfRange, 0},
		{"range is not a negative", "得分范围为1-10", 1, 10, StatusParseError, 0},
		{"two numbers", "7 or 8", 0, 10, StatusParseError, 0},
		{"two labelled numbers", "Score: 7\nScore: 8", 0, 10, StatusParseError, 0},
		{"labels agree", "Score: 7. Final score: 7", 0, 10, StatusOK, 7},
		{"two fractions", "8/10 for clues, 6/10 for tone", 0, 10, StatusParseError, 0},
		{"no number", "The prediction overlaps well with the truth.", 0, 10, StatusParseError, 0},
		{"echoed template", "'预测分数'：预测分数；'原因'：原因", 1, 10, StatusParseError, 0},
		{"empty", "", 0, 10, StatusParseError, 0},
		{"blank", " \n\t", 0, 10, StatusParseError, 0},
		{"refusal en", "I'm sorry, but I can't help with that request.", 0, 10, StatusRefused, 0},
		{"refusal zh", "抱歉，我无法完成这个评分任务。", 1, 10, StatusRefused, 0},
		{"refusal with a number", "As an AI, I cannot judge 2 descriptions.", 0, 10, StatusRefused, 0},
		{"numbered steps then labelled score", "1.真实描述：生气\n2.预测描述：沮丧\n3.重叠度较低\n'预测分数'：3；'原因'：情感不一致", 1, 10, StatusOK, 3},
		{"markdown bold label", "**Score:** 4", 0, 10, StatusOK, 4},
		{"labelled fraction of the scale", "Score: 8/10", 0, 10, StatusOK, 8},
		{"labelled, bracketed", "Score: (7)", 0, 10, StatusOK, 7},
		{"score is a word, not a label", "The score is 7.", 0, 10, StatusOK, 7},
		{"score word then a fraction", "The score ranges from 0 to 10; I give 7/10.", 0, 10, StatusOK, 7},

		// A label with no number of its own: never the reason's count.
		{"label, no number, count in reason zh", "预测分数：无法确定；原因：只有1个线索", 1, 10, StatusParseError, 0},
		{"empty label, count in reason", "'预测分数'：；'原因'：两者有2个共同线索", 1, 10, StatusParseError, 0},
		{"N/A", "Score: N/A (0 clues overlap)", 0, 10, StatusParseError, 0},
		{"unknown", "Score: unknown. Only 1 clue.", 0, 10, StatusParseError, 0},
		{"score word in the reason", "'预测分数'：7；'原因'：得分是根据重叠的线索给出的", 1, 10, StatusOK, 7},
		{"label then refusal", "Score: I'm sorry, I cannot rate this.", 0, 10, StatusRefused, 0},

		// A scale in brackets after the label is not the score.
		{"scale in brackets", "Score (0-10): 7", 0, 10, StatusOK, 7},
		{"scale in full-width brackets", "评分（1-10）：7", 1, 10, StatusOK, 7},
		{"scale in square brackets", "Score [0-10]: 6", 0, 10, StatusOK, 6},
		{"scale after the colon", "Score: 0-10 scale, I give 7", 0, 10, StatusParseError, 0},

		// A range or a choice is not one score.
		{"range", "'预测分数'：7-8", 1, 10, StatusParseError, 0},
		{"range with wave dash", "'预测分数'：7～8", 1, 10, StatusParseError, 0},
		{"range with 到", "'预测分数'：7到8", 1, 10, StatusParseError, 0},
		{"range with 至", "'预测分数'：7至8", 1, 10, StatusParseError, 0},
		{"choice with 或", "'预测分数'：7或8", 1, 10, StatusParseError, 0},
		{"choice with or", "Score: 7 or 8", 0, 10, StatusParseError, 0},
		{"range with to", "Score: 7 to 8", 0, 10, StatusParseError, 0},
		{"range with en dash", "Score: 7–8", 0, 10, StatusParseError, 0},

		{"list with 、", "'预测分数'：7、8", 1, 10, StatusParseError, 0},
		{"bold range", "Score: **7**-**8**", 0, 10, StatusParseError, 0},

		// A fraction of another scale.
		{"bold out of 5", "Score: **3**/5", 0, 10, StatusParseError, 0},
		{"bold out of 10", "Score: **7**/10", 0, 10, StatusOK, 7},
		{"spaced fraction", "Score: 5 / 10", 0, 10, StatusOK, 5},
		{"scale in words after the score", "Score: 7 (out of 10)", 0, 10, StatusOK, 7},
		{"other scale in words after the score", "Score: 3 (out of 5)", 0, 10, StatusParseError, 0},
		{"a fraction in the explanation", "Score: 6\n\nExplanation: the prediction covers 3 out of 5 true clues.", 0, 10, StatusOK, 6},
		{"score word then out of", "The overlap score is 6 out of 10.", 0, 10, StatusOK, 6},
		{"out of 5", "Score: 3/5", 0, 10, StatusParseError, 0},
		{"rating out of 5", "Rating: 3/5", 0, 10, StatusParseError, 0},
		{"6 of 5", "Score: 6/5", 0, 10, StatusParseError, 0},
		{"out of 5 in words", "Score: 3 out of 5", 0, 10, StatusParseError, 0},

		// Numbers that are not whole numbers as written.
		{"leading point", "Score: .5", 0, 10, StatusParseError, 0},
		{"minus sign", "Score: −1", 0, 10, StatusOutOfRange, 0},
		{"en dash as minus", "Score: –1", 0, 10, StatusOutOfRange, 0},
		{"decimal comma", "Score: 7,5", 0, 10, StatusParseError, 0},
		{"exponent", "Score: 1e1", 0, 10, StatusParseError, 0},
		{"two points", "Score: 1.2.3", 0, 10, StatusParseError, 0},
		{"bare decimal comma", "7,5", 0, 10, StatusParseError, 0},

		// A weak model continues the few-shot pattern after its answer.
		{"continued examples", "5\nTrue clues: smiling face\nPredicted clues: frown\nScore: 0", 0, 10, StatusOK, 5},
		{"continued emotion examples", " 10\nTrue emotion: sad\nPredicted emotion: happy\nScore: 0", 0, 10, StatusOK, 10},
		{"continued release examples", "'预测分数'：6；'原因'：相近\n《真实描述》：他笑了\n《预测描述》：他哭了\n输出：'预测分数'：1", 1, 10, StatusOK, 6},
		{"only a new example", "True clues: smiling face\nPredicted clues: frown\nScore: 0", 0, 10, StatusParseError, 0},
		{"leading number and a reason", "6\nReason: 2 of 3 clues match.", 0, 10, StatusOK, 6},
		{"leading number disagrees with label", "6\nScore: 7", 0, 10, StatusParseError, 0},
		{"leading range", "7-8", 0, 10, StatusParseError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ParseScore(tt.reply, tt.lo, tt.hi)
			if p.Status != tt.status || (tt.status == StatusOK && p.Score != tt.score) {
				t.Fatalf("ParseScore(%q) = %+v, want %s %v", tt.reply, p, tt.status, tt.score)
			}
			if p.Status != StatusOK && p.Reason == "" {
				t.Errorf("no reason given for %s", p.Status)
			}
		})
	}
}

func TestParseModalities(t *testing.T) {
	tests := []struct {
		reply  string
		status Status
		score  float64
	}{
		{"visual, audio", StatusOK, 2},
		{"visual, audio, content", StatusOK, 3},
		{"Output: Visual", StatusOK, 1},
		{"visual, visual", StatusOK, 1},
		{"['audio', 'visual']", StatusOK, 2},
		{"visual and audio.", StatusOK, 2},
		{"visual\nInput: He laughs.\nOutput: visual, audio, content", StatusOK, 1},
		{"visual, audio Input: He laughs. Output: content", StatusOK, 2},
		{"The input covers visual and audio cues.", StatusParseError, 0},
		{"none of audio or visual; only content", StatusParseError, 0},
		{"No audio cues; visual only", StatusParseError, 0},
		{"You can choose from ['audio', 'visual', 'content']", StatusParseError, 0},
		{"Output: visual, audio, content\nInput: He smiles.\nOutput: visual", StatusParseError, 0},
		{"none", StatusOK, 0},
		{"[]", StatusOK, 0},
		{"", StatusParseError, 0},
		{"smell, taste", StatusParseError, 0},
		{"I'm sorry, I can't do that.", StatusRefused, 0},
	}
	for _, tt := range tests {
		t.Run(tt.reply, func(t *testing.T) {
			p := ParseModalities(tt.reply)
			if p.Status != tt.status || (tt.status == StatusOK && p.Score != tt.score) {
				t.Errorf("ParseModalities(%q) = %+v, want %s %v", tt.reply, p, tt.status, tt.score)
			}
			if p.Status != StatusOK && p.Reason == "" {
				t.Errorf("no reason given for %s", p.Status)
			}
		})
	}
}

func FuzzParseScore(f *testing.F) {
	for _, s := range []string{"'预测分数'：7", "Score: 8", "**8/10**", "１０", "-1", "7 or 8", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ParseScore(s, 1, 10)
		if p.Status == StatusOK && (p.Score < 1 || p.Score > 10) {
			t.Fatalf("ok score %v outside 1-10 for %q", p.Score, s)
		}
	})
}
