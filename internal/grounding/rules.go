package grounding

import (
	"fmt"

	"emer/internal/actions"

	"emer/internal/voice"
)

// This file is the check's whole judgement: which phrases make a claim
// about the face, the voice or the words, and the measured test, with its
// thresholds, that supports or contradicts each. check.go only applies
// it. English phrases are regular expressions matched case-insensitively
// from the start of a word; Chinese phrases are plain substrings. A rule
// matched after a negation ("did not smile", "没有微笑") has its verdict
// reversed.

// Face thresholds, the local reasoner's (package explain) for a facial
// clue: the main face's dominant expression over a stretch (a cues
// summary segment) counts when it lasts FaceMinSec at mean probability
// FaceProb. A face claim is contradicted only when no frame of the main
// face reaches FaceProb for the claimed expressions over at least
// FaceMinFrames frames: the expression network never saw it.
const (
	FaceProb      = 0.3
	FaceMinSec    = 0.5
	FaceMinFrames = 2
	// HeadMinSec: the head pose measured over this long without the
	// movement contradicts it; for the brief ones (a nod, a shake), only
	// at HeadMinFPS frames a second or more (at the default 2 a second a
	// nod falls between frames).
	HeadMinSec = 2.0
	HeadMinFPS = 5.0
)

// Voice thresholds. Events are package voice's changes against the
// speaker's own level (1 s windows; loudness 6 dB, pitch 15 % off the
// speaker's level, pauses of 0.8 s). The clip-level norms are the local
// reasoner's, checked on the RAVDESS recordings (see package explain).
//
// The recording level (Scene.LevelDB, the 95th percentile of 64 ms frame
// intensities) depends on the recording's gain as much as on the voice,
// so it decides only at the extremes: at or above LoudLevelDB (frames
// within 10 dB of full scale: shouting, or a recording pushed to its
// limit) the speech is loud, below QuietLevelDB (34 dB under full scale:
// whispering, or a very low recording) it is quiet. Dialogue mixed at
// the usual broadcast levels lies between (about 74-82 dB); there only
// the events decide.
const (
	LoudLevelDB  = 84
	QuietLevelDB = 60
	// HighPitchHz: a mean F0 at or above it is high for any adult voice;
	// below LowPitchHz (the bottom of the usual range of women's voices)
	// with no rise against the speaker's own level, the voice is not
	// high.
	HighPitchHz = 250
	LowPitchHz  = 165
	// PitchDrop: a fall of the pitch level counts from 25 % (15 % falls
	// at the end of most plain sentences).
	PitchDrop = 0.25
	// FastRate, SlowRate: voiced segments a second over the speech,
	// measured over at least MinSpeechSec.
	FastRate     = 4.0
	SlowRate     = 2.0
	MinSpeechSec = 1.0
	// LivelyCV, FlatCV: the pitch's standard deviation over its mean.
	LivelyCV = 0.25
	FlatCV   = 0.12
	// TrembleShimmer: local shimmer at or above it is a trembling voice;
	// below SteadyShimmer the voice is steady (healthy voices measure
	// about 2-8 %).
	TrembleShimmer = 0.15
	SteadyShimmer  = 0.05
	// PauseSpeechSec: a clip with no pause of 0.3 s over this much speech
	// has no pause.
	PauseSpeechSec = 2.0
)

// Music thresholds on Scene (see scene.go for the measures).
//
// Checked (scene_test.go) on the 360 RAVDESS speech recordings (speech
// alone, studio, with pauses): ToneShare at most 0.38 (99th percentile
// 0.18) and ForeignShare at most 0.19 (99th percentile 0.16), so none
// reads as music; 346 of the 360 (96 %) read as speech alone, the other
// 14 are unverifiable. The reference recordings jfk.wav (a noisy 1961
// broadcast) and test16k.wav, and espeak-ng speech in three voices,
// measure 0 and 0. Music alone (chords, a sine melody) measures a
// ToneShare of 0.97 to 1. Chords and a melody in 0.4 s notes mixed under
// 24 of the RAVDESS recordings, the music's active level 6 dB under the
// speech's, are found in all 48 mixtures; 9 dB under, in 47; 15 and 20 dB
// under, in 39 (in these recordings the music is also heard alone in the
// pauses), and no mixture reads as speech alone. Under espeak-ng speech,
// which pauses less, the music was found in all 6 mixtures at about 9 dB
// under, in 4 of 6 at about 15 dB and in 1 of 6 at about 20 dB, where one
// read as speech alone. So "no music" means no music within about 15 dB
// of the voice, and "music" is not said of speech alone.
const (
	MusicToneShare    = 0.5
	MusicForeignShare = 0.25
	SpeechToneShare   = 0.2
	SpeechForeignMax  = 0.05
	MinSoundSec       = 1.0
)

// Content thresholds: a quote is the subtitle's when QuoteFound of its
// words (each Chinese character a word) are in the subtitle, and not when
// fewer than QuoteMissing are. ClearValence is the local reasoner's.
const (
	QuoteFound   = 0.8
	QuoteMissing = 0.5
	ClearValence = 0.5
)

// Rule is one kind of claim and its measured test.
type Rule struct {
	ID     string
	Aspect string
	EN, ZH []string
	// Except are phrases that keep the rule from applying ("rose and
	// fell" is not a rise).
	ExceptEN, ExceptZH []string
	// Test says what is measured and when it supports or contradicts,
	// as the evidence quotes it.
	Test string
	test func(m *Measures) result
}

// Rules are the check's rules. A claim is checked by every rule it
// matches; context and the emotion inferred are never measured.
var Rules = []Rule{
	// Face. The expression network reads the whole face: a claim about
	// the mouth or the brows is checked against the expression that
	// moves them.
	{ID: "face.smile", Aspect: Visual,
		EN: []string{`smil`, `grin`, `laugh`, `beam(ed|ing|s)?\b`, `(mouth|lips?)( \w+)? (curved|curled|curls|curves|turned|turns|tilted|lifted|raised|went) up`,
			`corners? of (his|her|the) mouth (\w+ )?(up|raised|raise|raises|lifted|lift|lifts|rose|rise|rises|curled|curved|turned up)`, `mouth corners? (\w+ )?(up|raised|raise|raises|lifted|lift|lifts|rose|rise|rises|curled|curved|turned up)`,
			`(mouth|lips) (was |were |is |are )?upturned`, `upward curve`, `dimples?\b`, `(showing|revealing|showed|revealed|shows|reveals) (his |her )?teeth`, `(look|looks|looked|looking) (\w+ ){0,2}(happy|joyful|cheerful|delighted|pleased)\b`,
			`(happy|joyful|cheerful|pleased|delighted) (facial )?(expression|face|look)`},
		ZH:       []string{"笑", "嘴角上扬", "嘴角上翘", "嘴角微微上扬", "面露喜色", "喜笑颜开", "眉开眼笑", "酒窝", "眼睛弯成月牙"},
		ExceptEN: []string{`laughing ?stock`, `laughable`},
		ExceptZH: []string{"嘲笑", "笑话", "可笑", "玩笑", "取笑", "讥笑"},
		Test:     faceTest([]string{"happy"}, actions.Smile), test: faceRule([]string{"happy"}, actions.Smile)},
	{ID: "face.frown", Aspect: Visual,
		EN: []string{`frown`, `furrow`, `scowl`, `knit(ted|s)? (his|her) (brows?|eyebrows)`, `(brows?|eyebrows) (were |was )?(drawn|drew|knitted|knit|pulled) together`,
			`(brows?|eyebrows) (were |was |is |are )?(furrowed|knitted|tight|tightly)`},
		ZH:   []string{"皱眉", "皱着眉", "皱起眉", "眉头紧锁", "眉头紧皱", "紧皱眉头", "蹙眉", "锁眉", "眉头微皱", "眉头皱"},
		Test: faceTest([]string{"angry", "disgusted", "fearful", "sad"}, actions.BrowLower), test: faceRule([]string{"angry", "disgusted", "fearful", "sad"}, actions.BrowLower)},
	{ID: "face.wide_eyes", Aspect: Visual,
		EN: []string{`wide(-| )eyed`, `(widened|widening|widens|opened) (his|her) eyes`, `eyes (were |was |are )?(wide|widened|opened wide)`, `with wide eyes`, `wide open eyes`,
			`raised (his|her) (eye)?brows`, `(eye)?brows (\w+ )?(raised|raise|raises|lifted|lift|lifts|rose|went up)`, `wide eyes`},
		ZH:   []string{"瞪大眼睛", "睁大眼睛", "瞪大双眼", "睁大双眼", "瞪大了眼睛", "睁大了眼睛", "瞪着眼", "眼睛瞪大", "眼睛瞪得", "眼睛睁大", "挑眉", "眉毛上扬", "眉毛上挑", "眉毛抬起", "眉毛也抬起", "眉毛也跟着抬起", "扬起眉毛", "抬起眉毛", "抬起了眉毛"},
		Test: faceTest([]string{"surprised", "fearful"}, actions.EyeWiden, actions.BrowRaise), test: faceRule([]string{"surprised", "fearful"}, actions.EyeWiden, actions.BrowRaise)},
	{ID: "face.sad", Aspect: Visual,
		EN: []string{`(look|looks|looked|looking) (\w+ ){0,2}(sad|downcast|dejected|sorrowful|gloomy|upset|depressed)\b`, `(sad|sorrowful|downcast|dejected|gloomy|mournful) (facial )?(expression|face|look|eyes)`,
			`tears?\b`, `tearful`, `cry`, `cried`, `crying`, `sob`, `weep`, `wept`, `(corners? of (his|her) )?mouth (\w+ )?(turned|turns|drooped|droops) down`},
		ZH:   []string{"哭", "流泪", "眼泪", "泪水", "含泪", "泪光", "神情低落", "神情沮丧", "表情悲伤", "表情沮丧", "愁眉苦脸", "嘴角下垂", "难过的表情", "悲伤的表情", "神色黯然"},
		Test: faceTest([]string{"sad"}, actions.LipCornerDepress), test: faceRule([]string{"sad"}, actions.LipCornerDepress)},
	{ID: "face.neutral", Aspect: Visual,
		EN: []string{`expressionless`, `poker face`, `blank (expression|face|stare|look)`, `(calm|neutral|serious|stern|straight|plain|composed|impassive|indifferent|cold|flat) (facial )?(expression|face|look)`,
			`(no|without( any)?) (obvious |clear |particular |visible |facial )*expressions?\b`, `(face|expression) (was |is |remained |stayed )?(calm|neutral|serious|stern|blank|expressionless)`},
		ZH:   []string{"面无表情", "没有表情", "板着脸", "没有明显的表情", "没什么表情", "表情平静", "表情平淡", "表情严肃", "神情严肃", "面容严肃", "面色严肃", "表情冷漠", "神情平静", "面色平静", "表情淡定", "神情淡定"},
		Test: faceTest([]string{"neutral"}), test: faceRule([]string{"neutral"})},
	{ID: "face.angry", Aspect: Visual,
		EN:   []string{`glar`, `(angry|furious|fierce|hostile|irritated|annoyed) (facial )?(expression|face|look|eyes|stare)`, `stared (angrily|fiercely)`},
		ZH:   []string{"怒视", "怒目", "横眉", "表情愤怒", "愤怒的表情", "生气的表情", "一脸怒气", "面露怒色", "表情不悦", "不悦的表情"},
		Test: faceTest([]string{"angry", "disgusted"}, actions.BrowLower), test: faceRule([]string{"angry", "disgusted"}, actions.BrowLower)},
	{ID: "face.fear", Aspect: Visual,
		EN:   []string{`(fearful|frightened|scared|terrified|panicked|nervous|tense|worried|anxious) (facial )?(expression|face|look|eyes)`},
		ZH:   []string{"表情紧张", "神情紧张", "惊恐", "害怕的表情", "紧张的表情", "担忧的表情", "表情担忧", "神情担忧", "面露担忧"},
		Test: faceTest([]string{"fearful"}), test: faceRule([]string{"fearful"})},
	{ID: "face.surprise", Aspect: Visual,
		EN:   []string{`(surprised|shocked|astonished|amazed|stunned) (facial )?(expression|face|look)`, `jaw dropped`, `mouth (fell |hung |was )?open`, `opened (his|her) mouth wide`},
		ZH:   []string{"惊讶的表情", "表情惊讶", "吃惊的表情", "目瞪口呆", "张大嘴巴", "张大了嘴"},
		Test: faceTest([]string{"surprised"}, actions.JawDrop), test: faceRule([]string{"surprised"}, actions.JawDrop)},
	{ID: "face.disgust", Aspect: Visual,
		EN:   []string{`(disgusted|disgust) (facial )?(expression|face|look)`, `wrinkl(ed|es|ing) (his|her) nose`, `curl(ed|s|ing) (his|her) lips?`, `sneer`},
		ZH:   []string{"嫌弃的表情", "厌恶的表情", "表情厌恶", "皱鼻", "撇嘴"},
		Test: faceTest([]string{"disgusted"}), test: faceRule([]string{"disgusted"})},
	// Head movements, from the head pose of the main face (package
	// actions). A nod or a shake takes a few tenths of a second, so its
	// absence is told only from frames at least HeadMinFPS a second.
	{ID: "head.nod", Aspect: Visual,
		EN: []string{`nod`}, ZH: []string{"点头", "点了点头", "频频点头"},
		Test: headTest(actions.Nod, true), test: headRule(actions.Nod, true)},
	{ID: "head.shake", Aspect: Visual,
		EN: []string{`(shook|shakes|shaking|shake) (his|her|the) head`, `head ?shak`}, ZH: []string{"摇头", "摇了摇头", "摇着头"},
		Test: headTest(actions.HeadShake, true), test: headRule(actions.HeadShake, true)},
	{ID: "head.down", Aspect: Visual,
		EN:   []string{`(lowered|lowers|lowering|bowed|bows|bowing|hung|hangs|hanging|dropped|drops) (his|her) head`, `head (was |is )?(down|lowered|bowed|hung|hanging)`, `look(ed|s|ing)? down\b`, `(gaze|eyes) (was |were )?(lowered|downcast|cast down)`},
		ZH:   []string{"低头", "低着头", "低下头", "垂头", "垂下头", "目光低垂", "往下看"},
		Test: headTest(actions.LookDown, false), test: headRule(actions.LookDown, false)},
	{ID: "head.away", Aspect: Visual,
		EN:   []string{`look(ed|s|ing)? away`, `turn(ed|s|ing)? (his|her) head`, `look(ed|s|ing)? to the side`},
		ZH:   []string{"转头", "扭头", "别过头", "看向别处", "侧过头", "将头偏向一边", "头偏向一边"},
		Test: headTest(actions.LookAway, false), test: headRule(actions.LookAway, false)},
	// Hands and body: not measured.
	{ID: "body.movement", Aspect: Visual,
		EN:   []string{`gestur`, `hands?\b`, `arms?\b`, `fists?\b`, `shrug`, `posture`, `body language`, `lean(ed|s|ing)? (forward|back)`, `clench`, `waved?\b`, `waving`, `clap`},
		ZH:   []string{"手势", "双手", "握拳", "拳头", "耸肩", "肢体", "姿势", "身体前倾", "挥手", "摆手", "手臂", "拍手", "鼓掌"},
		Test: "hands and body: not measured (the cues hold the face and the head only)", test: notMeasured("hands and body movements are not measured")},

	// Voice.
	{ID: "voice.loud", Aspect: Audio,
		EN: []string{`loud`, `(raised|raising|raises|raise) (his|her) voice`, `shout`, `yell`, `roar`, `scream`, `bellow`, `high volume`, `booming`, `at the top of (his|her) lungs`,
			`volume (\w+ ){0,3}(increased|raised|rose|went up|was high|high|loud)`, `(strong|powerful|forceful) voice`, `voice (was |is )?(strong|powerful|forceful)`},
		ZH: []string{"大声", "提高音量", "提高了音量", "音量提高", "音量很大", "音量较大", "音量大", "提高嗓门", "嗓门大", "吼", "喊", "咆哮", "尖叫", "高声",
			"音量很高", "音量较高", "音量抬高", "抬高音量", "抬高了音量", "音量增大", "音量加大", "音量变大", "声音有力", "铿锵有力", "声音洪亮", "嗓音洪亮", "声音提高"},
		Test: fmt.Sprintf("loudness %g dB above the speaker's own level over 1 s, or a recording level of %d dB or more, supports; %g dB below his own level, or a recording level under %d dB, contradicts",
			voice.DefaultConfig().LoudnessChangeDB, LoudLevelDB, voice.DefaultConfig().LoudnessChangeDB, QuietLevelDB),
		test: loudRule},
	{ID: "voice.quiet", Aspect: Audio,
		EN: []string{`(quiet|soft|gentle|hushed|faint|weak) (voice|tone|volume)`, `(spoke|speaks|speaking|said|talked|talks) (very |rather |quite )?(softly|quietly|gently|faintly)`, `whisper`, `murmur`, `mutter`,
			`in a (low|small) voice`, `(voice|volume) (was |is |became |grew |got )?(very |rather |quite )?(quiet|soft|small|faint|weak|lower)\b`, `low volume`, `lowered (his|her) voice`, `(voice|tone) (\w+ ){0,2}(weak|powerless|feeble)`},
		ZH: []string{"小声", "轻声", "低声", "音量小", "音量较小", "音量很小", "音量很低", "音量降低", "降低音量", "声音很小", "声音较小", "声音变小", "声音微弱", "耳语", "嘀咕", "喃喃", "声音较轻", "声音很轻", "声音比较轻", "声音轻柔", "柔弱无力", "有气无力", "声音无力"},
		Test: fmt.Sprintf("loudness %g dB below the speaker's own level over 1 s, or a recording level under %d dB, supports; %g dB above his own level, or a recording level of %d dB or more, contradicts",
			voice.DefaultConfig().LoudnessChangeDB, QuietLevelDB, voice.DefaultConfig().LoudnessChangeDB, LoudLevelDB),
		test: quietRule},
	{ID: "voice.low", Aspect: Audio,
		EN: []string{`(low|deep|deeper|lower|sunken|heavy|somber|sombre|dull) (voice|tone|pitch)`, `(voice|tone|pitch) (was |is |became |sounded |sounds )?(very |rather |quite |a bit |a little )?(low|deep|deeper|lower|heavy|dull|somber|sombre)\b`,
			`(tone|pitch|voice) (sank|dropped|fell|lowered)`},
		ZH:   []string{"低沉", "声音低", "语调低", "音调低", "语调下降", "语气沉重", "语调下沉", "声音沉重", "声音沙哑低沉"},
		Test: fmt.Sprintf("a pitch level %.0f %% under the speaker's mean over 1 s, or loudness %g dB under his own level, supports; a pitch level 15 %% over his mean or loudness %g dB over his level, with neither of those, contradicts", PitchDrop*100, voice.DefaultConfig().LoudnessChangeDB, voice.DefaultConfig().LoudnessChangeDB),
		test: lowRule},
	{ID: "voice.high", Aspect: Audio,
		EN: []string{`high(-| )pitched`, `(shrill|sharp|piercing) (voice|tone)`, `(voice|tone|pitch) (was |is |became |sounded )?(very |rather |quite )?(high|higher|shrill|sharp)\b`,
			`(tone|pitch|voice|intonation) (\w+ ){0,2}(rose|rises|raised|went up|goes up|rising|elevated)`, `rising (tone|intonation|pitch)`, `raised (his|her) (tone|pitch)`},
		ZH:       []string{"音调高", "音调很高", "音调较高", "语调上扬", "语调升高", "音调升高", "语调提高", "声音尖", "尖锐", "语调上升", "声调升高", "声调上扬", "音调上扬", "语调抬高", "语调突然抬高", "音调抬高", "声调抬高", "尾音上扬"},
		ExceptEN: []string{`(rose|rises|rising|went up|goes up) and (fell|falls|falling|went down|goes down)`, `up and down`},
		ExceptZH: []string{"起伏"},
		Test:     fmt.Sprintf("a pitch level 15 %% over the speaker's mean over 1 s, a rise of 15 %% at a phrase's end, or a mean pitch of %d Hz or more supports; a mean pitch under %d Hz with none of those contradicts", HighPitchHz, LowPitchHz),
		test:     highRule},
	{ID: "voice.fast", Aspect: Audio,
		EN: []string{`(spoke|speaks|speak|speaking|talked|talks|talking|said \w+|says \w+)( \w+)? (very |rather |quite |a bit |a little )?(quickly|rapidly|fast|hurriedly)\b`,
			`(fast|rapid|quick|hurried|brisk)(-paced)? (speech|pace|speaking|tempo|rate|speed)`, `(speech|pace|speaking speed|speech rate|rate of speech|tempo) (was |is |became )?(very |rather |quite )?(fast|rapid|quick|hurried)`,
			`(spoke|speaks|talked|talks) faster`, `(speech|speaking) (speed|rate|pace) (\w+ ){0,3}(accelerated|increased|quickened|sped up|faster)`, `(speed|rate|pace) of (his |her )?speech (\w+ ){0,3}(accelerated|increased|quickened|sped up)`},
		ZH:   []string{"语速快", "语速较快", "语速很快", "语速加快", "语速偏快", "语速飞快", "急促", "说得很快", "说话很快", "快速地说", "语速变快", "加快了语速", "加快语速", "说话速度很快", "说话的速度很快"},
		Test: fmt.Sprintf("%.1f voiced segments a second or more over at least %g s of speech supports; %.1f or fewer contradicts", FastRate, MinSpeechSec, SlowRate),
		test: fastRule},
	{ID: "voice.slow", Aspect: Audio,
		EN: []string{`(spoke|speaks|speak|speaking|talked|talks|talking|said \w+|says \w+)( \w+)? (very |rather |quite |a bit |a little )?(slowly|leisurely)\b`,
			`(slow|measured|unhurried)(-paced)? (speech|pace|speaking|tempo|rate|speed)`, `(speech|pace|speaking speed|speech rate|rate of speech|tempo) (was |is |became )?(very |rather |quite )?slow`, `drawl`},
		ZH:   []string{"语速慢", "语速较慢", "语速很慢", "语速缓慢", "语速放慢", "语速偏慢", "慢慢地说", "说得很慢", "缓慢地说", "说话速度缓慢", "说话速度很慢", "说话的速度很慢", "语速变慢", "放慢语速", "放慢了语速"},
		Test: fmt.Sprintf("%.1f voiced segments a second or fewer over at least %g s of speech supports; %.1f or more contradicts", SlowRate, MinSpeechSec, FastRate),
		test: slowRule},
	{ID: "voice.trembling", Aspect: Audio,
		EN:   []string{`trembl`, `quaver`, `(shaky|shaking|unsteady|broken|wavering|quivering) (voice|tone)`, `(voice|tone) (was |is )?(shaky|shaking|unsteady|broken|wavering|quivering)`, `choked`, `choking`},
		ZH:   []string{"颤抖", "发抖", "哽咽", "颤音", "声音发颤", "声音颤"},
		Test: fmt.Sprintf("local shimmer of %.0f %% or more supports; under %.0f %% contradicts", TrembleShimmer*100, SteadyShimmer*100),
		test: trembleRule},
	{ID: "voice.flat", Aspect: Audio,
		EN: []string{`monoton`, `(flat|even|steady|level|calm|plain|measured) (tone|voice|intonation|pitch)`, `(tone|voice|intonation) (was |is |remained |stayed )?(very |rather |quite |relatively |fairly )?(flat|even|steady|level|calm|plain)\b`,
			`(spoke|speaks|speaking|said|talked) (very |rather |quite )?calmly`},
		ZH:   []string{"语气平静", "语调平淡", "语调平稳", "语气平淡", "声音平静", "平静地说", "语调平缓", "语气平和", "语调没有起伏", "语调单一", "语气平稳", "语气较为平稳", "语调较为平稳"},
		Test: fmt.Sprintf("a pitch standard deviation of %.2f of the mean or less, with no change of pitch or loudness level, supports; %.2f or more contradicts", FlatCV, LivelyCV),
		test: flatRule},
	{ID: "voice.lively", Aspect: Audio,
		EN: []string{`(intonation|tone|pitch|voice) (rose and fell|varied|fluctuat|changed|modulated)`, `(lively|animated|excited|agitated|emotional|passionate|intense|emphatic|dramatic) (tone|voice|intonation|manner)`,
			`(spoke|speaks|speaking|said|talked) (very |rather |quite )?(passionately|excitedly|emotionally|emphatically|dramatically|animatedly|agitatedly)`,
			`(speech|tone|voice) (was |is )?(more |very |quite |rather )?(intense|excited|agitated|passionate|animated|upbeat|lively)`, `excited in (his|her) speech`},
		ZH:   []string{"语调起伏", "抑扬顿挫", "语气激动", "激动地说", "语气强烈", "声音激动", "语调变化", "语气夸张", "言语激动", "言语比较激动", "言语非常激动", "言语有些激动", "言语较为激动"},
		Test: fmt.Sprintf("a pitch standard deviation of %.2f of the mean or more supports; %.2f or less, with no change of level, contradicts", LivelyCV, FlatCV),
		test: livelyRule},
	{ID: "voice.pause", Aspect: Audio,
		EN:   []string{`paus`, `hesita`, `stammer`, `stutter`, `faltered`, `halting`},
		ZH:   []string{"停顿", "犹豫", "支支吾吾", "结巴", "吞吞吐吐", "断断续续"},
		Test: fmt.Sprintf("a pause of %.1f s or more inside speech supports; no pause of 0.3 s over at least %g s of speech contradicts", voice.DefaultConfig().LongPause, PauseSpeechSec),
		test: pauseRule},
	{ID: "audio.music", Aspect: Audio,
		EN: []string{`music`, `song`, `singing`, `sang`, `sings`, `melod`, `soundtrack`, `piano`, `guitar`, `violin`, `instrumental`, `humm(ed|ing)`, `tune\b`},
		ZH: []string{"音乐", "配乐", "歌", "唱", "旋律", "乐曲", "钢琴", "吉他", "小提琴", "哼"},
		Test: fmt.Sprintf("tones held over %.0f %% of the sound, or tones that hold while the voice moves over %.0f %%, support; under %.0f %% and %.0f %% over at least %g s of sound contradict (music more than about 15 dB under the voice can be missed)",
			MusicToneShare*100, MusicForeignShare*100, SpeechToneShare*100, SpeechForeignMax*100, MinSoundSec),
		test: musicRule},

	// Words.
	{ID: "content.quote", Aspect: Content,
		Test: fmt.Sprintf("a quoted phrase with %.0f %% of its words in the subtitle supports; under %.0f %%, in the subtitle's script, contradicts", QuoteFound*100, QuoteMissing*100),
		test: nil}, // applied to the quotes of a claim; see quoteRule
	{ID: "content.question", Aspect: Content,
		EN:   []string{`asked`, `asks`, `asking`, `questioned`, `questioning`, `wonder(ed|s|ing)? (why|whether|if|how|what)`, `rhetorical question`},
		ZH:   []string{"询问", "质问", "反问", "问道", "提问", "发问", "问他", "问她", "问对方", "追问", "疑问"},
		Test: "a question in the subtitle (a question mark, or a question the text analysis counts) supports; a subtitle without one is not a contradiction (subtitles often drop punctuation)",
		test: questionRule},
	{ID: "content.positive", Aspect: Content,
		EN: []string{`(positive|optimistic|cheerful|kind|grateful|polite|warm|encouraging|praising|affectionate|friendly) (words|language|remarks|content|statement|comments?)`,
			`(words|language|remarks|content) (was |were |is |are )?(positive|optimistic|cheerful|kind|warm|friendly)`, `express(ed|es|ing)? (his |her )?(gratitude|thanks|appreciation|praise|love|joy)`, `thank(ed|s|ing)?\b`, `prais`, `compliment`},
		ZH:   []string{"话语积极", "积极的话", "积极的言语", "表达感谢", "表示感谢", "感谢", "称赞", "赞美", "夸奖", "表达了喜悦", "话语温暖"},
		Test: fmt.Sprintf("a subtitle valence of %+.1f or more, or a positive emotion word, supports; a valence of %+.1f or less with no positive word contradicts", ClearValence, -ClearValence),
		test: positiveRule},
	{ID: "content.negative", Aspect: Content,
		EN: []string{`(negative|pessimistic|harsh|rude|hostile|bitter|sarcastic|angry|critical|complaining) (words|language|remarks|content|statement|comments?)`,
			`(words|language|remarks|content) (was |were |is |are )?(negative|pessimistic|harsh|rude|hostile|bitter)`, `complain`, `criticiz`, `criticis`, `blam(e|ed|es|ing)\b`, `curs(e|ed|ing)\b`, `insult`},
		ZH:   []string{"话语消极", "消极的话", "消极的言语", "抱怨", "批评", "指责", "责备", "埋怨", "辱骂", "骂"},
		Test: fmt.Sprintf("a subtitle valence of %+.1f or less, or a negative emotion word, supports; a valence of %+.1f or more with no negative word contradicts", -ClearValence, ClearValence),
		test: negativeRule},
	{ID: "content.exclamation", Aspect: Content,
		EN:   []string{`exclaim`, `exclamation`},
		ZH:   []string{"感叹", "惊呼"},
		Test: "an exclamation in the subtitle supports; a subtitle without one is not a contradiction",
		test: exclaimRule},
}

func faceTest(exprs []string, acts ...actions.Action) string {
	s := fmt.Sprintf("a stretch of the main face whose dominant expression is %s, lasting %g s at mean probability %g", orList(exprs), FaceMinSec, FaceProb)
	if len(acts) > 0 {
		names := make([]string, len(acts))
		for i, a := range acts {
			names[i] = string(a)
		}
		s += ", or a " + orList(names) + " action of it,"
	}
	return s + fmt.Sprintf(" supports; no frame of it reaching %g for %s over at least %d frames contradicts", FaceProb, orList(exprs), FaceMinFrames)
}

func headTest(a actions.Action, brief bool) string {
	s := fmt.Sprintf("a %s movement of the main face's head supports; none over at least %g s of head pose", a, HeadMinSec)
	if brief {
		s += fmt.Sprintf(" measured at %g frames a second or more", HeadMinFPS)
	}
	return s + " contradicts"
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " or " + s[len(s)-1]
}

// Aspect keywords: a claim no rule matches is about the face and body,
// the voice or the words when it holds one of these (checked in this
// order), else an inference when it names an emotion or holds an
// inference marker, else about the context.
var (
	visualWords = words{
		EN: []string{`fac(e|es|ial)\b`, `expression`, `eyes?\b`, `eyebrows?`, `brows?\b`, `mouth`, `lips?\b`, `head\b`, `gaze`, `stare`, `glanc`, `look(ed|s|ing)? (at|down|up|away)`, `tears?\b`, `blink`, `body`, `shoulders?`, `dimples?`, `cheeks?`, `forehead`},
		ZH: []string{"脸", "面部", "面容", "面色", "表情", "神情", "神色", "眼睛", "双眼", "眼神", "眼中", "目光", "眉", "嘴", "唇", "头部", "抬头", "双手", "手势", "手臂", "手指", "身体", "肢体", "肩", "动作", "泪", "酒窝", "脸颊"},
	}
	audioWords = words{
		EN: []string{`voice`, `tone`, `intonation`, `pitch`, `volume`, `sound`, `spoke`, `speak`, `speech`, `accent`, `sigh`, `breath`, `vocal`},
		ZH: []string{"声音", "语气", "语调", "音调", "音量", "语速", "声调", "嗓音", "嗓门", "叹气", "口吻", "声"},
	}
	contentWords = words{
		EN: []string{`said`, `says`, `say\b`, `saying`, `words?\b`, `subtitles?`, `lines?\b`, `mention`, `told`, `tells?\b`, `phrase`, `sentence`, `statement`, `question`, `talk(ed|s|ing)? about`, `topic`, `conversation`, `dialogue`, `replied`, `answered`, `remark`},
		ZH: []string{"说道", "说了", "他说", "她说", "说：", "说“", "话语", "台词", "字幕", "提到", "询问", "问道", "言语", "回答", "讲述", "谈到", "谈论", "谈话内容", "对话内容", "的话"},
	}
	// inferenceMarkers make a claim an inference before any keyword;
	// inferenceHints only when no aspect keyword is there.
	inferenceMarkers = words{
		EN: []string{`infer`, `conclu`, `emotional state`, `it can be seen that`, `we can (see|tell) that`},
		ZH: []string{"推断", "推测", "情绪状态", "情感状态", "可以看出", "由此可见"},
	}
	inferenceHints = words{
		EN: []string{`emotions?\b`, `suggest`, `indicat`, `impl(y|ies|ied)\b`, `(shows|showing|reveals|revealing) (that|his|her)`, `(seems|seemed|appears|appeared) to`, `feel(s|ing)?\b`, `felt\b`, `mood`},
		ZH: []string{"情绪", "情感", "表明", "说明", "暗示", "显示出", "看出", "似乎", "感到", "感觉", "心情"},
	}
)
