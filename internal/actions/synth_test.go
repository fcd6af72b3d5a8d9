package actions

import "math"

// face3 is a hand-built neutral face in 3D, 68 points in the iBUG 300-W
// layout, in units of the distance between the eye centres, with x to the
// image's right, y up and z towards the viewer, the origin between the eye
// centres. Its proportions and depths are rough adult averages (the nose
// tip 0.6 eye distances in front of the outer eye corners, the inner brows
// 0.3 in front of the inner corners), not the pose model's, so that the
// fit meets a face that is not its own.
type face3 [NumPoints][3]float64

func neutralFace() face3 {
	var f face3
	// Jaw 0..16: a half ellipse from beside the eyes round to the chin.
	for i := 0; i <= 16; i++ {
		th := math.Pi * float64(i) / 16 // 0 at point 0, π at point 16
		x := -1.02 * math.Cos(th)
		y := 0.05 - 1.70*math.Sin(th)
		z := -0.65 + 0.80*math.Sin(th)*math.Sin(th)
		f[i] = [3]float64{x, y, z}
	}
	// Brows 17..21 (image left, outer to inner) and 22..26 mirrored.
	brow := [5][3]float64{{-0.86, 0.30, -0.12}, {-0.72, 0.40, 0.00}, {-0.56, 0.45, 0.08}, {-0.40, 0.44, 0.16}, {-0.24, 0.40, 0.24}}
	for i, b := range brow {
		f[17+i] = b
		f[26-i] = [3]float64{-b[0], b[1], b[2]}
	}
	// Nose bridge 27..30 and base 31..35.
	for i := range 4 {
		k := float64(i) / 3
		f[27+i] = [3]float64{0, 0.02 - 0.56*k, 0.18 + 0.32*k}
	}
	base := [5][3]float64{{-0.19, -0.66, 0.24}, {-0.10, -0.70, 0.32}, {0, -0.72, 0.36}, {0.10, -0.70, 0.32}, {0.19, -0.66, 0.24}}
	for i, b := range base {
		f[31+i] = b
	}
	// Eyes 36..41 and 42..47: corners, two upper and two lower lid points.
	const w, h = 0.46, 0.07 // eye width and half opening (EAR 2h/w ≈ 0.30)
	for _, c := range []float64{-0.5, 0.5} {
		o := 36 // 36 left corner, 37 38 upper lid, 39 right corner, 40 41 lower lid
		if c > 0 {
			o = 42
		}
		l, r := c-w/2, c+w/2
		dx := w / 3
		zl, zr := -0.10, -0.06 // outer corners sit deeper than inner ones
		if c > 0 {
			zl, zr = zr, zl
		}
		f[o] = [3]float64{l, 0, zl}
		f[o+1] = [3]float64{l + dx, h, 0.02}
		f[o+2] = [3]float64{l + 2*dx, h, 0.02}
		f[o+3] = [3]float64{r, 0, zr}
		f[o+4] = [3]float64{l + 2*dx, -h, 0.0}
		f[o+5] = [3]float64{l + dx, -h, 0.0}
	}
	// Mouth: outer 48..59 clockwise from the image-left corner, inner 60..67.
	outer := [12][3]float64{
		{-0.42, -1.06, 0.18}, {-0.28, -0.98, 0.30}, {-0.12, -0.94, 0.38}, {0, -0.96, 0.40}, {0.12, -0.94, 0.38}, {0.28, -0.98, 0.30},
		{0.42, -1.06, 0.18}, {0.28, -1.14, 0.28}, {0.13, -1.21, 0.36}, {0, -1.22, 0.38}, {-0.13, -1.21, 0.36}, {-0.28, -1.14, 0.28},
	}
	for i, p := range outer {
		f[48+i] = p
	}
	inner := [8][3]float64{
		{-0.36, -1.06, 0.20}, {-0.12, -1.05, 0.32}, {0, -1.05, 0.34}, {0.12, -1.05, 0.32},
		{0.36, -1.06, 0.20}, {0.12, -1.07, 0.32}, {0, -1.07, 0.34}, {-0.12, -1.07, 0.32},
	}
	for i, p := range inner {
		f[60+i] = p
	}
	return f
}

// The expressions below move a face's points by intensity k in 0..1.

// raiseBrows lifts both brows by 0.08·k.
func (f *face3) raiseBrows(k float64) {
	for i := 17; i <= 26; i++ {
		f[i][1] += 0.08 * k
	}
}

// lowerBrows lowers the brows by 0.06·k and draws their inner ends
// together by 0.05·k each.
func (f *face3) lowerBrows(k float64) {
	for i := 17; i <= 26; i++ {
		f[i][1] -= 0.06 * k
	}
	for _, i := range []int{20, 21} {
		f[i][0] += 0.05 * k
	}
	for _, i := range []int{22, 23} {
		f[i][0] -= 0.05 * k
	}
}

// closeEyes brings the lids together: k = 1 shuts the eyes, the upper lid
// travelling four fifths of the way.
func (f *face3) closeEyes(k float64) {
	for _, o := range []int{36, 42} {
		open := f[o+1][1] - f[o+5][1]
		for _, i := range []int{o + 1, o + 2} {
			f[i][1] -= 0.8 * open * k
		}
		for _, i := range []int{o + 4, o + 5} {
			f[i][1] += 0.2 * open * k
		}
	}
}

// widenEyes raises the upper lids by 0.03·k.
func (f *face3) widenEyes(k float64) {
	for _, i := range []int{37, 38, 43, 44} {
		f[i][1] += 0.03 * k
	}
}

// smile pulls the lip corners up by 0.07·k and out by 0.06·k.
func (f *face3) smile(k float64) {
	for _, c := range []struct {
		i    int
		sign float64
		w    float64
	}{{48, -1, 1}, {54, 1, 1}, {60, -1, 1}, {64, 1, 1}, {49, -1, 0.5}, {53, 1, 0.5}, {59, -1, 0.5}, {55, 1, 0.5}} {
		f[c.i][0] += c.sign * 0.06 * k * c.w
		f[c.i][1] += 0.07 * k * c.w
	}
}

// depressCorners pulls the lip corners down by 0.06·k.
func (f *face3) depressCorners(k float64) {
	for i, w := range map[int]float64{48: 1, 54: 1, 60: 1, 64: 1, 49: 0.4, 53: 0.4, 59: 0.4, 55: 0.4} {
		f[i][1] -= 0.06 * k * w
	}
}

// dropJaw opens the mouth: the chin drops by 0.30·k, the lower lip by
// 0.25·k, the corners by 0.08·k, the jaw line in proportion to its height.
func (f *face3) dropJaw(k float64) {
	for i := 0; i <= 16; i++ {
		th := math.Pi * float64(i) / 16
		f[i][1] -= 0.30 * k * math.Pow(math.Sin(th), 3)
	}
	for _, i := range []int{55, 56, 57, 58, 59, 65, 66, 67} {
		f[i][1] -= 0.25 * k
	}
	for _, i := range []int{48, 54, 60, 64} {
		f[i][1] -= 0.08 * k
	}
}

// pressLips thins both lips by 40 %·k towards the line between them.
func (f *face3) pressLips(k float64) {
	pairs := [][2]int{{50, 61}, {51, 62}, {52, 63}, {58, 67}, {57, 66}, {56, 65}, {49, 61}, {53, 63}, {59, 67}, {55, 65}}
	for _, p := range pairs {
		f[p[0]][1] += (f[p[1]][1] - f[p[0]][1]) * 0.4 * k
	}
}

// view places a face in an image: rotated by yaw, pitch and roll (see
// Pose), scaled so that the eye centres are iod pixels apart when frontal,
// centred at (cx, cy), projected orthographically or, with dist > 0, in
// perspective from dist eye-distances away.
type view struct {
	yaw, pitch, roll float64
	iod, cx, cy      float64
	dist             float64
}

func (v view) project(f *face3) Points {
	r := poseRotation(v.yaw, v.pitch, v.roll)
	var p Points
	for i, x := range f {
		c := r.mulVec(x)
		k := 1.0
		if v.dist > 0 {
			k = v.dist / (v.dist - c[2])
		}
		p[i] = [2]float64{v.cx + v.iod*k*c[0], v.cy - v.iod*k*c[1]}
	}
	return p
}

// projectModel places a pose model's points in an image the same way,
// the model scaled so that its outer eye corners are 1.5 apart (about an
// eye distance of 1), the other landmarks filled with the model's
// centroid so that only the model's points matter.
func (v view) projectModel(m *Model) Points {
	var l, r ModelPoint
	for _, mp := range m.Points {
		switch mp.Landmark {
		case eyeLeftOuter:
			l = mp
		case eyeRightOuter:
			r = mp
		}
	}
	k := 1.5 / math.Hypot(r.X-l.X, r.Y-l.Y)
	var f face3
	var c [3]float64
	for _, mp := range m.Points {
		c[0] += k * mp.X / float64(len(m.Points))
		c[1] += k * mp.Y / float64(len(m.Points))
		c[2] += k * mp.Z / float64(len(m.Points))
	}
	for i := range f {
		f[i] = c
	}
	for _, mp := range m.Points {
		f[mp.Landmark] = [3]float64{k * mp.X, k * mp.Y, k * mp.Z}
	}
	return v.project(&f)
}

// scene is a synthetic clip of one face: at each frame time t its
// expression and its view.
type scene struct {
	dur, fps float64
	face     func(t float64, f *face3)
	view     func(t float64) view
	expr     func(t float64) map[string]float64
}

// frontal is the default view: 100 px between the eye centres.
func frontal(float64) view { return view{iod: 100, cx: 320, cy: 240} }

func (s scene) track(id int) Track {
	if s.fps == 0 {
		s.fps = 25
	}
	if s.view == nil {
		s.view = frontal
	}
	n := int(math.Round(s.dur * s.fps))
	tr := Track{ID: id}
	for k := range n {
		t := float64(k) / s.fps
		f := neutralFace()
		if s.face != nil {
			s.face(t, &f)
		}
		fr := Frame{T: t, Points: s.view(t).project(&f)}
		if s.expr != nil {
			fr.Expr = s.expr(t)
		}
		tr.Frames = append(tr.Frames, fr)
	}
	return tr
}

// envelope is 1 from t0 to t1, 0.5 one frame either side, 0 elsewhere.
func envelope(t, t0, t1, fps float64) float64 {
	const eps = 1e-9
	dt := 1 / fps
	switch {
	case t >= t0-eps && t <= t1+eps:
		return 1
	case t >= t0-dt-eps && t <= t1+dt+eps:
		return 0.5
	}
	return 0
}

// knots interpolates linearly between (time, value) points, constant
// beyond the first and the last.
func knots(t float64, k ...[2]float64) float64 {
	if t <= k[0][0] {
		return k[0][1]
	}
	for i := 1; i < len(k); i++ {
		if t <= k[i][0] {
			a, b := k[i-1], k[i]
			return a[1] + (b[1]-a[1])*(t-a[0])/(b[0]-a[0])
		}
	}
	return k[len(k)-1][1]
}
