package vocal

import "fmt"

// Emotion is one of the eight emotions RAVDESS actors portray, named as
// RAVDESS names them.
type Emotion string

// The emotions, in RAVDESS order (its emotion codes 01..08).
const (
	Neutral   Emotion = "neutral"
	Calm      Emotion = "calm"
	Happy     Emotion = "happy"
	Sad       Emotion = "sad"
	Angry     Emotion = "angry"
	Fearful   Emotion = "fearful"
	Disgusted Emotion = "disgusted"
	Surprised Emotion = "surprised"
)

// Emotions lists the emotions in RAVDESS order.
var Emotions = []Emotion{Neutral, Calm, Happy, Sad, Angry, Fearful, Disgusted, Surprised}

// ParseEmotion returns the emotion named s (a RAVDESS name).
func ParseEmotion(s string) (Emotion, error) {
	for _, e := range Emotions {
		if string(e) == s {
			return e, nil
		}
	}
	return "", fmt.Errorf("unknown emotion %q (want one of %v)", s, Emotions)
}

// Vocabulary returns the words EMER explanations and the emotion wheels use
// for e, the usual one first: fearful is "worried" in MER's label set and
// "fear" in MELD's, disgusted is "disgust", surprised "surprise"; calm is
// also "relaxed". Every word is an emotion-wheel word form, though not
// every wheel has every emotion (the third has no disgust). "neutral" is a
// label of the MER and MELD sets but no wheel word, so it maps onto no
// wheel category.
func (e Emotion) Vocabulary() []string {
	switch e {
	case Neutral:
		return []string{"neutral"}
	case Calm:
		return []string{"calm", "relaxed"}
	case Happy:
		return []string{"happy", "joy"}
	case Sad:
		return []string{"sad", "sadness"}
	case Angry:
		return []string{"angry", "anger"}
	case Fearful:
		return []string{"worried", "fear", "fearful"}
	case Disgusted:
		return []string{"disgust", "disgusted"}
	case Surprised:
		return []string{"surprised", "surprise"}
	}
	return nil
}
