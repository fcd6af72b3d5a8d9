package actions

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// measureOne analyzes a one-frame track of landmarks p.
func measureOne(t *testing.T, p Points) Measures {
	t.Helper()
	res, err := Analyze(Track{Frames: []Frame{{Points: p}}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Measures) != 1 {
		t.Fatalf("no measures: skipped %v", res.Skipped)
	}
	return res.Measures[0]
}

// TestMeasuresInvariance checks that the measures do not change when the
// face is scaled, moved or turned in the image plane, for a neutral and
// expressive faces, frontal or turned.
func TestMeasuresInvariance(t *testing.T) {
	for _, ex := range []struct {
		name string
		move func(*face3)
	}{
		{"neutral", func(*face3) {}},
		{"surprise", func(f *face3) { f.raiseBrows(1); f.widenEyes(1); f.dropJaw(0.6) }},
		{"smile", func(f *face3) { f.smile(1); f.closeEyes(0.3) }},
		{"frown", func(f *face3) { f.lowerBrows(1); f.pressLips(1); f.depressCorners(0.5) }},
	} {
		for _, pose := range [][2]float64{{0, 0}, {20, -10}} {
			f := neutralFace()
			ex.move(&f)
			ref := measureOne(t, view{yaw: pose[0], pitch: pose[1], iod: 100, cx: 320, cy: 240}.project(&f))
			for _, v := range []view{
				{iod: 31, cx: 40, cy: 40},
				{iod: 250, cx: 1500, cy: -300},
				{iod: 100, cx: 320, cy: 240, roll: 25},
				{iod: 70, cx: 200, cy: 500, roll: -140},
			} {
				v.yaw, v.pitch = pose[0], pose[1]
				t.Run(fmt.Sprintf("%s/yaw%g_pitch%g/iod%g_roll%g", ex.name, pose[0], pose[1], v.iod, v.roll), func(t *testing.T) {
					got := measureOne(t, v.project(&f))
					if d := cmp.Diff(ref, got, cmpopts.EquateApprox(0, 1e-9)); d != "" {
						t.Errorf("measures changed (-reference +got):\n%s", d)
					}
				})
			}
		}
	}
}

// TestMeasuresOfTheNeutralFace checks the measures against the hand-built
// face's drawn lengths. Frontal, the pose model reads a pitch of about 1°
// on this face, which the vertical measures are corrected for as METHOD.md
// says: divided by cos(pitch), the corner lift raised by the lip depth
// times tan(pitch).
func TestMeasuresOfTheNeutralFace(t *testing.T) {
	f := neutralFace()
	res, err := Analyze(Track{Frames: []Frame{{Points: frontal(0).project(&f)}}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Measures) != 1 || len(res.Pose) != 1 {
		t.Fatalf("measures %v, pose %v, skipped %v", res.Measures, res.Pose, res.Skipped)
	}
	pose := res.Pose[0]
	if math.Abs(pose.Yaw) > 1e-9 || math.Abs(pose.Roll) > 1e-9 || math.Abs(pose.Pitch-1) > 0.1 {
		t.Fatalf("pose %+v, want yaw and roll 0, pitch about 1°", pose)
	}
	kv := 1 / math.Cos(pose.Pitch*math.Pi/180)
	want := Measures{
		InnerBrow:  kv * (0.40 - 0.02),         // brow ends 21, 22 above the nose bridge top 27
		OuterBrow:  kv * ((0.30+0.40)/2 - 0),   // 17, 18 above the eye corner 36
		BrowGap:    0.48,                       // between 21 and 22
		EyeAspect:  kv * 2 * 0.14 / (2 * 0.46), // lids 0.14 apart, eyes 0.46 wide
		MouthWidth: 0.84,                       // between the corners
		CornerLift: kv*(-1.06-(-0.96-1.22-1.05-1.07)/4) + // corners against the midline mean
			lipDepth*math.Tan(pose.Pitch*math.Pi/180),
		MouthAspect: kv * 0.02 / 0.84,                       // inner lips 0.02 apart
		Jaw:         kv * 1.65,                              // chin below the eye line
		LipHeight:   kv * ((-0.96 + 1.05) + (-1.07 + 1.22)), // red lip above and below
	}
	if d := cmp.Diff(want, res.Measures[0], cmpopts.EquateApprox(0, 1e-12)); d != "" {
		t.Errorf("measures (-geometry +got):\n%s", d)
	}
}

// TestMeasuresSkipTurnedHeads checks that a head turned beyond 60° yields
// a pose but no measures.
func TestMeasuresSkipTurnedHeads(t *testing.T) {
	f := neutralFace()
	v := frontal(0)
	v.yaw = 65
	res, err := Analyze(Track{Frames: []Frame{{Points: v.project(&f)}}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Measures) != 0 || len(res.Pose) != 1 || len(res.Skipped) != 1 {
		t.Fatalf("measures %d, poses %d, skipped %v; want 0, 1, one skip", len(res.Measures), len(res.Pose), res.Skipped)
	}
	if math.Abs(res.Pose[0].Yaw) <= maxMeasuredAngle {
		t.Errorf("yaw %.1f° read as within %d°", res.Pose[0].Yaw, maxMeasuredAngle)
	}
}
