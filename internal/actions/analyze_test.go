package actions

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBaselineRules checks how the neutral frames are chosen: by the
// neutral probability when the frames carry one, else by the least change
// from the clip's median face, and all frames in a short clip.
func TestBaselineRules(t *testing.T) {
	const fps = 25
	// Smiling for most of the clip, 0.8 to 3.4 s of 4 s.
	smiling := func(t float64) float64 { return envelope(t, 0.8, 3.4, fps) }
	face := func(t float64, f *face3) { f.smile(smiling(t)) }
	expr := func(t float64) map[string]float64 {
		if smiling(t) > 0 {
			return map[string]float64{"neutral": 0.1, "happy": 0.9}
		}
		return map[string]float64{"neutral": 0.95, "happy": 0.05}
	}
	t.Run("most_neutral", func(t *testing.T) {
		res, err := Analyze(scene{dur: 4, face: face, expr: expr}.track(1), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		b := res.Baseline
		if b.Rule != "most_neutral" {
			t.Fatalf("rule %q, want most_neutral", b.Rule)
		}
		// 25 of the 33 frames without a smile.
		if len(b.Frames) != 25 {
			t.Errorf("%d baseline frames, want 25", len(b.Frames))
		}
		for _, ts := range b.Frames {
			if smiling(ts) > 0 {
				t.Errorf("baseline frame at %g s is smiling", ts)
			}
		}
		if got := b.Expressions["happy"]; math.Abs(got-0.05) > 1e-12 {
			t.Errorf("baseline happy %g, want 0.05", got)
		}
		matchEvents(t, res.Events, []want{{Smile, 0.8, 3.4, 0.12, 0.16}}, fps, 1)
	})
	t.Run("least_change", func(t *testing.T) {
		// Without probabilities the median face is the smiling one: the
		// smile is the person's baseline and its absence reads as lip
		// corners going down. A clip must hold its neutral face for most of
		// its length, or carry expression probabilities.
		res, err := Analyze(scene{dur: 4, face: face}.track(1), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Baseline.Rule != "least_change" {
			t.Fatalf("rule %q, want least_change", res.Baseline.Rule)
		}
		for _, ts := range res.Baseline.Frames {
			if smiling(ts) < 1 {
				t.Errorf("baseline frame at %g s is not smiling", ts)
			}
		}
		matchEvents(t, res.Events, []want{{LipCornerDepress, 0, 0.76, 0.05, 0.2}, {LipCornerDepress, 3.44, 3.96, 0.05, 0.2}}, fps, 1)
	})
	t.Run("least_change_neutral_majority", func(t *testing.T) {
		// With the neutral face most of the time the median finds it.
		f := func(t float64, f *face3) { f.smile(envelope(t, 1.5, 2.5, fps)) }
		res, err := Analyze(scene{dur: 4, face: f}.track(1), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Baseline.Rule != "least_change" || len(res.Baseline.Frames) != 25 {
			t.Fatalf("rule %q with %d frames, want least_change with 25", res.Baseline.Rule, len(res.Baseline.Frames))
		}
		matchEvents(t, res.Events, []want{{Smile, 1.5, 2.5, 0.12, 0.16}}, fps, 1)
	})
	t.Run("all_frames", func(t *testing.T) {
		res, err := Analyze(scene{dur: 0.16, face: face}.track(1), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Baseline.Rule != "all_frames" || len(res.Baseline.Frames) != 4 {
			t.Fatalf("rule %q with %d frames, want all_frames with 4", res.Baseline.Rule, len(res.Baseline.Frames))
		}
	})
}

// TestPeak checks the peak moment: the frame of largest change, from the
// landmarks alone or with the expression probabilities, and none in a
// clip without change.
func TestPeak(t *testing.T) {
	// A smile growing to its height at 2.0 s and fading by 3.0 s.
	grow := func(t float64) float64 { return knots(t, [2]float64{1, 0}, [2]float64{2, 1}, [2]float64{3, 0}) }
	smile := func(t float64, f *face3) { f.smile(grow(t)) }
	for _, tt := range []struct {
		name   string
		s      scene
		t      float64
		reason string
	}{
		{"smile", scene{dur: 4, face: smile}, 2, "smile 2.4× its threshold"},
		{"brows and smile", scene{dur: 4, face: func(t float64, f *face3) {
			smile(t, f)
			f.raiseBrows(envelope(t, 2.4, 2.6, 25))
		}}, 2.4, "eyebrows raised 2.3× its threshold; smile 1.4× its threshold"},
		{"expression only", scene{dur: 4, expr: func(t float64) map[string]float64 {
			if math.Abs(t-3.2) < 1e-9 {
				return map[string]float64{"neutral": 0.1, "surprised": 0.9}
			}
			return map[string]float64{"neutral": 0.9, "surprised": 0.1}
		}}, 3.2, "expression surprised 0.90 against 0.10 at baseline"},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			res, err := Analyze(tt.s.track(2), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.Peak == nil {
				t.Fatal("no peak")
			}
			if math.Abs(res.Peak.T-tt.t) > 1e-9 || res.Peak.Reason != tt.reason {
				t.Errorf("peak at %g s, %q; want %g s, %q", res.Peak.T, res.Peak.Reason, tt.t, tt.reason)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		res, err := Analyze(scene{dur: 2}.track(2), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Peak != nil {
			t.Errorf("peak %+v in a clip without change", res.Peak)
		}
	})
	// Landmark jitter on a still face: a change far under every
	// threshold is no peak ("jaw dropped 0.1× its threshold" was one).
	t.Run("under_every_threshold", func(t *testing.T) {
		faint := func(t float64, f *face3) { f.smile(0.2 * grow(t)) }
		res, err := Analyze(scene{dur: 4, face: faint}.track(2), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Peak != nil {
			t.Errorf("peak %+v of a change under every threshold", res.Peak)
		}
		// The same smile at full height is one.
		res, err = Analyze(scene{dur: 4, face: smile}.track(2), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Peak == nil {
			t.Error("no peak of a smile 2.4× its threshold")
		}
	})
}

// TestJSON checks the JSON forms of events, poses and the peak.
func TestJSON(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
	}{
		{Event{Action: BrowRaise, Start: 0.8, End: 1.6, Magnitude: 0.24, Track: 3},
			`{"action":"brow_raise","start_s":0.8,"end_s":1.6,"magnitude":0.24,"track":3}`},
		{Pose{T: 1.2, Yaw: -3.5, Pitch: 12, Roll: 0.25}, `{"t":1.2,"yaw":-3.5,"pitch":12,"roll":0.25}`},
		{Peak{T: 2, Reason: "smile 2.4× its threshold", Score: 2.4}, `{"t":2,"reason":"smile 2.4× its threshold"}`},
	} {
		got, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

// TestEventText checks the words of each kind of event.
func TestEventText(t *testing.T) {
	for _, tt := range []struct {
		e    Event
		want string
	}{
		{Event{Action: BrowRaise, Start: 0.8, End: 1.6, Magnitude: 0.24}, "eyebrows raised 0.8–1.6 s, +24 % of the neutral brow height"},
		{Event{Action: BrowLower, Start: 1, End: 1.84, Magnitude: 0.183}, "brows lowered and drawn together 1–1.84 s, -18 % of the neutral brow height and gap"},
		{Event{Action: EyeWiden, Start: 1, End: 2, Magnitude: 0.214}, "eyes widened 1–2 s, +21 % of the neutral eye opening"},
		{Event{Action: EyeClose, Start: 1, End: 2, Magnitude: 1}, "eyes closed 1–2 s, 100 % shut"},
		{Event{Action: Blink, Start: 0.96, End: 1.12, Magnitude: 0.9}, "blinked 0.96–1.12 s, 90 % shut"},
		{Event{Action: Smile, Start: 1, End: 2, Magnitude: 0.142}, "smiled 1–2 s, lip corners up and out by 14 % of the neutral mouth width"},
		{Event{Action: LipCornerDepress, Start: 1, End: 2, Magnitude: 0.062}, "lip corners pulled down 1–2 s, by 6 % of the neutral mouth width"},
		{Event{Action: MouthOpen, Start: 1, End: 2, Magnitude: 0.3}, "lips parted 1–2 s, opening by 30 % of the mouth width"},
		{Event{Action: JawDrop, Start: 1, End: 2, Magnitude: 0.2}, "jaw dropped 1–2 s, chin 20 % lower than neutral"},
		{Event{Action: LipPress, Start: 1, End: 2, Magnitude: 0.4}, "lips pressed 1–2 s, -40 % of the neutral lip height"},
		{Event{Action: Nod, Start: 1, End: 1.4, Magnitude: 8.4}, "nodded 1–1.4 s, swings of up to 8° in pitch"},
		{Event{Action: HeadShake, Start: 1, End: 1.8, Magnitude: 46}, "shook the head 1–1.8 s, swings of up to 46° in yaw"},
		{Event{Action: LookDown, Start: 1, End: 2.5, Magnitude: 18.2}, "looked down 1–2.5 s, 18° below the usual pitch"},
		{Event{Action: LookAway, Start: 1, End: 2.5, Magnitude: -40}, "looked away to the image's left 1–2.5 s, 40° from the usual yaw"},
		{Event{Action: LookAway, Start: 1, End: 2.5, Magnitude: 25}, "looked away to the image's right 1–2.5 s, 25° from the usual yaw"},
	} {
		t.Run(string(tt.e.Action), func(t *testing.T) {
			if got := tt.e.Text(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestBadTracks checks that a track out of time order or with values that
// are not numbers is refused, every problem named with its frame.
func TestBadTracks(t *testing.T) {
	good := scene{dur: 0.4}.track(5)
	for _, tt := range []struct {
		name  string
		edit  func(tr *Track)
		wants []string
	}{
		{"out of order", func(tr *Track) { tr.Frames[3].T, tr.Frames[7].T = 0.04, 0.24 }, []string{
			"track 5", "frame 3: time 0.04 s is not after frame 2's 0.08 s",
			"frame 7: time 0.24 s is not after frame 6's 0.24 s"}},
		{"not a number", func(tr *Track) { tr.Frames[2].T = math.NaN() }, []string{"frame 2: time NaN is not a number"}},
		{"probability", func(tr *Track) {
			tr.Frames[1].Expr = map[string]float64{"happy": 1.5, "sad": math.NaN()}
		}, []string{"frame 1 (0.04 s): happy probability 1.5 is not in 0..1", "frame 1 (0.04 s): sad probability NaN"}},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			tr := good
			tr.Frames = append([]Frame(nil), good.Frames...)
			tt.edit(&tr)
			_, err := Analyze(tr, DefaultOptions())
			if !errors.Is(err, ErrInput) {
				t.Fatalf("got %v, want ErrInput", err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestBadOptions checks that every unusable setting is reported at once.
func TestBadOptions(t *testing.T) {
	o := DefaultOptions()
	o.Face = map[Action]Threshold{}
	for a, th := range DefaultOptions().Face {
		o.Face[a] = th
	}
	delete(o.Face, LipPress)
	o.Face[Smile] = Threshold{Enter: 0.02, Exit: 0.05}
	o.Nod.MinSwings = 1
	o.MaxGap = 0
	o.Model = nil
	_, err := Analyze(scene{dur: 1}.track(0), o)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"lip_press: no thresholds", "smile: thresholds enter 0.02, exit 0.05", "nod: amplitude", "max gap 0 s", "no head pose model"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if _, err := Analyze(scene{dur: 1}.track(0), Options{}); err == nil {
		t.Error("zero options accepted")
	}
}

// TestSkippedFrames checks that frames that cannot be measured are left
// out with a reason and do not make events, and that a frame whose
// landmarks lie outside its face box is one of them.
func TestSkippedFrames(t *testing.T) {
	tr := scene{dur: 2}.track(4)
	tr.Frames[10].Points[40][1] = math.Inf(1)
	for i := range tr.Frames[20].Points {
		tr.Frames[20].Points[i] = [2]float64{5, 5}
	}
	for i := range tr.Frames {
		tr.Frames[i].Box = &Box{X: 170, Y: 160, W: 300, H: 320}
	}
	tr.Frames[30].Box = &Box{X: 900, Y: 900, W: 100, H: 100}
	res, err := Analyze(tr, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []Skip{
		{0.4, "point 40 is (277.667, +Inf): degenerate landmarks"},
		{0.8, "eye centres 0 px apart: degenerate landmarks"},
		{1.2, "the landmarks do not fit the face box"},
	}
	if d := cmp.Diff(want, res.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if len(res.Measures) != 47 || len(res.Events) != 0 {
		t.Errorf("%d measures and events %v, want 47 and none", len(res.Measures), res.Events)
	}
}

// TestGapsAndFrameRates checks that a face lost for longer than MaxGap
// splits an event, a shorter loss does not, and that a clip at 5 frames a
// second finds the events within its frame.
func TestGapsAndFrameRates(t *testing.T) {
	raise := func(t float64, f *face3) { f.raiseBrows(envelope(t, 1, 2, 25)) }
	drop := func(tr Track, from, to float64) Track {
		var kept []Frame
		for _, f := range tr.Frames {
			if f.T < from-1e-9 || f.T > to+1e-9 {
				kept = append(kept, f)
			}
		}
		tr.Frames = kept
		return tr
	}
	t.Run("short_loss", func(t *testing.T) {
		res, err := Analyze(drop(scene{dur: 4, face: raise}.track(6), 1.3, 1.6), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		matchEvents(t, res.Events, []want{{BrowRaise, 1, 2, 0.2, 0.26}}, 25, 6)
	})
	t.Run("long_loss", func(t *testing.T) {
		res, err := Analyze(drop(scene{dur: 4, face: raise}.track(6), 1.3, 1.8), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		matchEvents(t, res.Events, []want{{BrowRaise, 1, 1.28, 0.2, 0.26}, {BrowRaise, 1.84, 2, 0.2, 0.26}}, 25, 6)
	})
	t.Run("5_fps", func(t *testing.T) {
		s := scene{dur: 6, fps: 5, face: func(t float64, f *face3) {
			f.raiseBrows(envelope(t, 1, 2, 5))
			f.smile(envelope(t, 3, 4.4, 5))
		}}
		res, err := Analyze(s.track(6), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		matchEvents(t, res.Events, []want{{BrowRaise, 1, 2, 0.2, 0.26}, {Smile, 3, 4.4, 0.12, 0.16}}, 5, 6)
	})
}
