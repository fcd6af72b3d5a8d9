package actions

import (
	"fmt"
	"math"
	"strconv"
)

// Text describes the event in words, for explanations: "eyebrows raised
// 0.8–1.6 s, +24 % of the neutral brow height".
func (e Event) Text() string {
	span := seconds(e.Start) + "–" + seconds(e.End) + " s"
	pct := func(sign float64) string { return fmt.Sprintf("%+.0f %%", sign*100*e.Magnitude) }
	switch e.Action {
	case BrowRaise:
		return fmt.Sprintf("eyebrows raised %s, %s of the neutral brow height", span, pct(1))
	case BrowLower:
		return fmt.Sprintf("brows lowered and drawn together %s, %s of the neutral brow height and gap", span, pct(-1))
	case EyeWiden:
		return fmt.Sprintf("eyes widened %s, %s of the neutral eye opening", span, pct(1))
	case EyeClose:
		return fmt.Sprintf("eyes closed %s, %.0f %% shut", span, 100*e.Magnitude)
	case Blink:
		return fmt.Sprintf("blinked %s, %.0f %% shut", span, 100*e.Magnitude)
	case Smile:
		return fmt.Sprintf("smiled %s, lip corners up and out by %.0f %% of the neutral mouth width", span, 100*e.Magnitude)
	case LipCornerDepress:
		return fmt.Sprintf("lip corners pulled down %s, by %.0f %% of the neutral mouth width", span, 100*e.Magnitude)
	case MouthOpen:
		return fmt.Sprintf("lips parted %s, opening by %.0f %% of the mouth width", span, 100*e.Magnitude)
	case JawDrop:
		return fmt.Sprintf("jaw dropped %s, chin %.0f %% lower than neutral", span, 100*e.Magnitude)
	case LipPress:
		return fmt.Sprintf("lips pressed %s, %s of the neutral lip height", span, pct(-1))
	case Nod:
		return fmt.Sprintf("nodded %s, swings of up to %.0f° in pitch", span, e.Magnitude)
	case HeadShake:
		return fmt.Sprintf("shook the head %s, swings of up to %.0f° in yaw", span, e.Magnitude)
	case LookDown:
		return fmt.Sprintf("looked down %s, %.0f° below the usual pitch", span, e.Magnitude)
	case LookAway:
		side := "right"
		if e.Magnitude < 0 {
			side = "left"
		}
		return fmt.Sprintf("looked away to the image's %s %s, %.0f° from the usual yaw", side, span, math.Abs(e.Magnitude))
	}
	return fmt.Sprintf("%s %s, magnitude %g", e.Action, span, e.Magnitude)
}

// seconds formats a time to the hundredth, without trailing zeros.
func seconds(t float64) string {
	return strconv.FormatFloat(math.Round(t*100)/100, 'f', -1, 64)
}
