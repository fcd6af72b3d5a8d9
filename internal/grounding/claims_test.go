package grounding

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"english clauses and frames",
			`In the video, he roared, spoke passionately, spoke quickly, spoke loudly, and stared with wide eyes. Therefore, it is inferred that his emotional state is anger.`,
			[]string{"he roared", "spoke passionately", "spoke quickly", "spoke loudly", "stared with wide eyes", "it is inferred that his emotional state is anger"}},
		{"and with a new subject, lists kept whole",
			`His mouth curved upwards and his eyebrows lifted, showing some shyness. Therefore, it can be inferred that his emotional state is grateful, happy, and shy.`,
			[]string{"His mouth curved upwards", "his eyebrows lifted", "showing some shyness", "it can be inferred that his emotional state is grateful, happy, shy"}},
		{"conjunctions, abbreviations and numbers",
			`He looks happy, but actually he is anxious. Mr. Li paid 3.5 dollars while he laughed.`,
			[]string{"He looks happy", "actually he is anxious", "Mr. Li paid 3.5 dollars", "he laughed"}},
		{"quotes are not cut",
			`He said "Last night, I forgot. Sorry!" and left.`,
			[]string{`He said "Last night, I forgot. Sorry!" and left`}},
		{"chinese",
			`根据视频，我们可以推断出这位女士似乎很生气。一开始，她坐在沙发上，双手紧握。此外，在整个视频中，她面部表情严肃，没有微笑。`,
			[]string{"我们可以推断出这位女士似乎很生气", "她坐在沙发上", "双手紧握", "她面部表情严肃", "没有微笑"}},
		{"chinese quote and conjunction",
			`她说：“我不想再谈了。”他面带微笑并且语速很快。`,
			[]string{"她说：“我不想再谈了。”", "他面带微笑", "语速很快"}},
		{"chinese noun phrase after an opener",
			`根据视觉线索，视频中的人正在微笑。我们可以看出，他很开心。`,
			[]string{"视频中的人正在微笑", "他很开心"}},
		{"frames only", `In the video. Based on the visual cues, 总之。`, nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Split(tt.text)); diff != "" {
				t.Errorf("Split(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}
