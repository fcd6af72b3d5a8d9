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
		{"The input covers visual and audio cues.", StatusOK, 2},
		{"none", StatusOK, 0},
		{"[]", StatusOK, 0},
		{"", StatusParseError, 0},
		{"smell, taste", StatusParseError, 0},
		{"I'm sorry, I can't do that.", StatusRefused, 0},
	}
	for _, tt := range tests {
		p := ParseModalities(tt.reply)
		if p.Status != tt.status || (tt.status == StatusOK && p.Score != tt.score) {
			t.Errorf("ParseModalities(%q) = %+v, want %s %v", tt.reply, p, tt.status, tt.score)
		}
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
