package actions

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// want is an expected event: its action, start and end (matched within a
// frame) and the range its magnitude must fall in.
type want struct {
	action     Action
	start, end float64
	lo, hi     float64
}

// matchEvents reports the differences between got and want, events
// matched in order.
func matchEvents(t *testing.T, got []Event, want []want, fps float64, track int) {
	t.Helper()
	frame := 1/fps + 1e-9
	type ev struct {
		Action     Action
		Start, End string
	}
	// Times within a frame compare equal through their rounded frame
	// index; an event off by more shows in the diff with its times.
	var g, w []ev
	for i, e := range got {
		if e.Track != track {
			t.Errorf("event %d: track %d, want %d", i, e.Track, track)
		}
		g = append(g, ev{e.Action, fmt.Sprintf("%.2f", e.Start), fmt.Sprintf("%.2f", e.End)})
	}
	for i, x := range want {
		w = append(w, ev{x.action, fmt.Sprintf("%.2f", x.start), fmt.Sprintf("%.2f", x.end)})
		if i < len(got) && got[i].Action == x.action {
			if math.Abs(got[i].Start-x.start) <= frame {
				g[i].Start = w[i].Start
			}
			if math.Abs(got[i].End-x.end) <= frame {
				g[i].End = w[i].End
			}
			if m := got[i].Magnitude; !(m >= x.lo && m <= x.hi) {
				t.Errorf("%s: magnitude %.3f, want %.3f..%.3f", x.action, m, x.lo, x.hi)
			}
		}
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
		for _, e := range got {
			t.Logf("  %s", e.Text())
		}
	}
}

// TestEvents runs hand-built clips, each with one action or head movement
// (or none), and checks that exactly the expected events come out, at the
// right times within a frame.
func TestEvents(t *testing.T) {
	const fps = 25
	env := func(t0, t1 float64) func(float64) float64 {
		return func(t float64) float64 { return envelope(t, t0, t1, fps) }
	}
	face := func(move func(*face3, float64), k func(float64) float64) func(float64, *face3) {
		return func(t float64, f *face3) { move(f, k(t)) }
	}
	for _, tt := range []struct {
		name string
		s    scene
		want []want
	}{
		{"neutral", scene{dur: 4}, nil},
		{"brow raise", scene{dur: 4, face: face((*face3).raiseBrows, env(0.8, 1.6))},
			[]want{{BrowRaise, 0.8, 1.6, 0.2, 0.26}}},
		{"brow lower", scene{dur: 4, face: face((*face3).lowerBrows, env(1, 1.8))},
			[]want{{BrowLower, 1, 1.8, 0.16, 0.21}}},
		{"blink", scene{dur: 4, face: face((*face3).closeEyes, env(1, 1.08))},
			[]want{{Blink, 1, 1.08, 0.95, 1.05}}},
		{"eyes closed", scene{dur: 4, face: face((*face3).closeEyes, env(1, 2))},
			[]want{{EyeClose, 1, 2, 0.95, 1.05}}},
		{"eyes widened", scene{dur: 4, face: face((*face3).widenEyes, env(1, 2))},
			[]want{{EyeWiden, 1, 2, 0.19, 0.24}}},
		{"smile", scene{dur: 4, face: face((*face3).smile, env(1, 2))},
			[]want{{Smile, 1, 2, 0.12, 0.16}}},
		{"lip corners down", scene{dur: 4, face: face((*face3).depressCorners, env(1, 2))},
			[]want{{LipCornerDepress, 1, 2, 0.055, 0.07}}},
		{"jaw drop", scene{dur: 4, face: face((*face3).dropJaw, env(1, 2))},
			[]want{{JawDrop, 1, 2, 0.18, 0.22}, {MouthOpen, 1, 2, 0.27, 0.33}}},
		{"lips pressed", scene{dur: 4, face: face((*face3).pressLips, env(1, 2))},
			[]want{{LipPress, 1, 2, 0.36, 0.44}}},
		{"nod", scene{dur: 4, view: func(t float64) view {
			v := frontal(t)
			v.pitch = knots(t, [2]float64{1, 0}, [2]float64{1.2, -12}, [2]float64{1.4, 0})
			return v
		}}, []want{{Nod, 1, 1.4, 7, 13}}},
		{"head shake", scene{dur: 4, view: func(t float64) view {
			v := frontal(t)
			v.yaw = knots(t, [2]float64{1, 0}, [2]float64{1.2, 20}, [2]float64{1.6, -20}, [2]float64{1.8, 0})
			return v
		}}, []want{{HeadShake, 1, 1.8, 40, 56}}},
		{"look down", scene{dur: 4, view: func(t float64) view {
			v := frontal(t)
			v.pitch = -25 * envelope(t, 1, 2.5, fps)
			return v
		}}, []want{{LookDown, 1, 2.5, 15, 26}}},
		{"look away", scene{dur: 4, view: func(t float64) view {
			v := frontal(t)
			v.yaw = -35 * envelope(t, 1, 2.5, fps)
			return v
		}}, []want{{LookAway, 1, 2.5, -45, -33}}},
		{"rolled head", scene{dur: 4, view: func(t float64) view {
			v := frontal(t)
			v.roll = 25 * envelope(t, 1, 2.5, fps)
			return v
		}}, nil},
		{"swaying roll", scene{dur: 4, view: func(t float64) view {
			v := frontal(t)
			v.roll = 30 * math.Sin(2*math.Pi*t/1.2)
			return v
		}}, nil},
		{"zoom and move", scene{dur: 4, view: func(t float64) view {
			return view{iod: 60 + 40*t, cx: 100 + 80*t, cy: 300 - 30*t}
		}}, nil},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			res, err := Analyze(tt.s.track(7), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Skipped) > 0 {
				t.Errorf("skipped %v", res.Skipped)
			}
			matchEvents(t, res.Events, tt.want, fps, 7)
		})
	}
}
