package actions

import (
	"fmt"
	"math"
)

// Model is a generic rigid 3D face: reference points for some of the 68
// landmarks, in a frame with x to the image's right, y up and z towards the
// viewer (a right-handed frame; the units are the source's).
type Model struct {
	Name   string
	Points []ModelPoint
}

// ModelPoint places one landmark of a Model. Weight is its share in the
// least-squares fit.
type ModelPoint struct {
	Landmark int
	X, Y, Z  float64
	Weight   float64
}

// SixPointModel is the generic face of Mallick's tutorial on head pose
// from dlib landmarks (S. Mallick, "Head Pose Estimation using OpenCV and
// Dlib", LearnOpenCV, 2016), the six points most head-pose code uses: nose
// tip, chin, the outer eye corners and the mouth corners, in arbitrary
// units with the nose tip at the origin.
var SixPointModel = Model{
	Name: "six-point",
	Points: []ModelPoint{
		{noseTip, 0, 0, 0, 1},
		{chin, 0, -330, -65, 1},
		{eyeLeftOuter, -225, 170, -135, 1},
		{eyeRightOuter, 225, 170, -135, 1},
		{mouthLeft, -150, -150, -125, 1},
		{mouthRight, 150, -150, -125, 1},
	},
}

// Pose is a head pose at time T, in degrees: Yaw > 0 when the nose turns
// towards the image's right, Pitch > 0 when the chin goes up (< 0 looking
// down), Roll > 0 when the eye line slopes down towards the image's right
// (a clockwise tilt as seen in the image). The rotation is
// Rz(−Roll)·Ry(Yaw)·Rx(−Pitch) in a frame with x to the image's right, y up
// and z towards the viewer.
type Pose struct {
	T     float64 `json:"t"`
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// mat3 is a 3×3 matrix, row-major.
type mat3 [3][3]float64

func (m *mat3) mulVec(v [3]float64) [3]float64 {
	var r [3]float64
	for i := range 3 {
		r[i] = m[i][0]*v[0] + m[i][1]*v[1] + m[i][2]*v[2]
	}
	return r
}

func (m *mat3) mul(n *mat3) mat3 {
	var r mat3
	for i := range 3 {
		for j := range 3 {
			r[i][j] = m[i][0]*n[0][j] + m[i][1]*n[1][j] + m[i][2]*n[2][j]
		}
	}
	return r
}

// rotation returns Rz(γ)·Ry(β)·Rx(α), angles in radians.
func rotation(alpha, beta, gamma float64) mat3 {
	ca, sa := math.Cos(alpha), math.Sin(alpha)
	cb, sb := math.Cos(beta), math.Sin(beta)
	cg, sg := math.Cos(gamma), math.Sin(gamma)
	rx := mat3{{1, 0, 0}, {0, ca, -sa}, {0, sa, ca}}
	ry := mat3{{cb, 0, sb}, {0, 1, 0}, {-sb, 0, cb}}
	rz := mat3{{cg, -sg, 0}, {sg, cg, 0}, {0, 0, 1}}
	m := ry.mul(&rx)
	return rz.mul(&m)
}

// poseRotation is the rotation of a Pose in degrees.
func poseRotation(yaw, pitch, roll float64) mat3 {
	const rad = math.Pi / 180
	return rotation(-pitch*rad, yaw*rad, -roll*rad)
}

// angles returns yaw, pitch and roll in degrees of the rotation r.
func angles(r *mat3) (yaw, pitch, roll float64) {
	const deg = 180 / math.Pi
	beta := math.Asin(math.Max(-1, math.Min(1, -r[2][0])))
	alpha := math.Atan2(r[2][1], r[2][2])
	gamma := math.Atan2(r[1][0], r[0][0])
	return beta * deg, -alpha * deg, -gamma * deg
}

// rodrigues returns the rotation by the vector w (axis × angle in radians).
func rodrigues(w [3]float64) mat3 {
	th := math.Sqrt(w[0]*w[0] + w[1]*w[1] + w[2]*w[2])
	if th < 1e-15 {
		return mat3{{1, -w[2], w[1]}, {w[2], 1, -w[0]}, {-w[1], w[0], 1}}
	}
	k := [3]float64{w[0] / th, w[1] / th, w[2] / th}
	c, s := math.Cos(th), math.Sin(th)
	v := 1 - c
	return mat3{
		{c + k[0]*k[0]*v, k[0]*k[1]*v - k[2]*s, k[0]*k[2]*v + k[1]*s},
		{k[1]*k[0]*v + k[2]*s, c + k[1]*k[1]*v, k[1]*k[2]*v - k[0]*s},
		{k[2]*k[0]*v - k[1]*s, k[2]*k[1]*v + k[0]*s, c + k[2]*k[2]*v},
	}
}

// weakFit is a scaled orthographic (weak-perspective) camera fitted to a
// face: image point (x, −y) = S·(first two rows of R)·X + t for a model
// point X and a translation t that centring removes.
type weakFit struct {
	S float64 // pixels per model unit
	R mat3    // model to camera rotation
}

// fitWeak fits a weak-perspective camera to the landmarks p at m's points
// by weighted least squares: the affine camera in closed form, its nearest
// scaled rotation (the polar factor), then Newton steps on rotation and
// scale (see refine). Translation is exact after centring.
func fitWeak(p *Points, m *Model) (weakFit, error) {
	n := len(m.Points)
	if n < 4 {
		return weakFit{}, fmt.Errorf("%s model: %d points, a 3D fit needs four: %w", m.Name, n, ErrDegenerate)
	}
	xs := make([][3]float64, n)
	qs := make([]vec, n)
	ws := make([]float64, n)
	var xm [3]float64
	var qm vec
	var wsum float64
	for i, mp := range m.Points {
		if !(mp.Weight > 0) {
			return weakFit{}, fmt.Errorf("%s model: landmark %d has weight %v, not positive: %w", m.Name, mp.Landmark, mp.Weight, ErrDegenerate)
		}
		xs[i] = [3]float64{mp.X, mp.Y, mp.Z}
		qs[i] = vec{p[mp.Landmark][0], -p[mp.Landmark][1]}
		ws[i] = mp.Weight
		wsum += mp.Weight
	}
	for i := range xs {
		for k := range 3 {
			xm[k] += ws[i] * xs[i][k] / wsum
		}
		qm = qm.add(qs[i].scale(ws[i] / wsum))
	}
	var c mat3          // Σ w x xᵀ
	var b [2][3]float64 // Σ w q xᵀ
	for i := range xs {
		for k := range 3 {
			xs[i][k] -= xm[k]
		}
		qs[i] = qs[i].sub(qm)
		w := ws[i]
		for j := range 3 {
			for k := range 3 {
				c[j][k] += w * xs[i][j] * xs[i][k]
			}
			b[0][j] += w * qs[i].x * xs[i][j]
			b[1][j] += w * qs[i].y * xs[i][j]
		}
	}
	ci, ok := inverse3(&c)
	if !ok {
		return weakFit{}, fmt.Errorf("%s model: the points are coplanar: %w", m.Name, ErrDegenerate)
	}
	var a [2][3]float64 // affine camera B·C⁻¹
	for r := range 2 {
		for j := range 3 {
			a[r][j] = b[r][0]*ci[0][j] + b[r][1]*ci[1][j] + b[r][2]*ci[2][j]
		}
	}
	rows, s, ok := polar(a)
	if !ok {
		return weakFit{}, fmt.Errorf("landmarks collapse onto a line under the %s model: %w", m.Name, ErrDegenerate)
	}
	// The least-squares problem on rotation and scale has local minima
	// (weak perspective confuses a pitch or yaw with its mirror image when
	// the points do not fit the model), so refine from three starts: the
	// polar factor, its depth reversal, and the frontal pose.
	rev := rows
	rev[0][2], rev[1][2] = -rev[0][2], -rev[1][2]
	r, cost := refine(xs, qs, ws, rowsToRotation(rows), s)
	for _, start := range []mat3{rowsToRotation(rev), {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}} {
		if r2, c2 := refine(xs, qs, ws, start, s); c2.cost < cost.cost {
			r, cost = r2, c2
		}
	}
	s = cost.s
	if !(s > 0) {
		return weakFit{}, fmt.Errorf("%s model fit has scale %v: %w", m.Name, s, ErrDegenerate)
	}
	return weakFit{S: s, R: r}, nil
}

// fitCost is a refined fit's scale and weighted sum of squared residuals.
type fitCost struct{ s, cost float64 }

// refine minimises Σ w·|s·Π·R·x − q|² over R and s from (r, s) by Newton
// steps with a backtracking line search, R updated as R·exp([δ]×).
func refine(xs [][3]float64, qs []vec, ws []float64, r mat3, s float64) (mat3, fitCost) {
	cost := func(r *mat3, s float64) float64 {
		var c float64
		for i, x := range xs {
			rx := r.mulVec(x)
			ex, ey := s*rx[0]-qs[i].x, s*rx[1]-qs[i].y
			c += ws[i] * (ex*ex + ey*ey)
		}
		return c
	}
	apply := func(d [4]float64, a float64) (mat3, float64) {
		dr := rodrigues([3]float64{a * d[0], a * d[1], a * d[2]})
		return r.mul(&dr), s + a*d[3]
	}
	cur := cost(&r, s)
	for range 100 {
		// Jacobian columns: rotation δ gives s·Π·R·(δ × x), scale Π·R·x.
		// The Hessian adds the residuals' second derivatives (large
		// residuals make plain Gauss-Newton zigzag): rotation pairs give
		// s·Π·R·½([e_k]×[e_l]× + [e_l]×[e_k]×)·x, rotation with scale
		// Π·R·(e_k × x).
		var jtj, full [4][4]float64
		var g [4]float64
		for i, x := range xs {
			rx := r.mulVec(x)
			e := [2]float64{s*rx[0] - qs[i].x, s*rx[1] - qs[i].y}
			var jac [2][4]float64
			var ex [3][3]float64 // e_k × x
			for k := range 3 {
				var unit [3]float64
				unit[k] = 1
				ex[k] = cross(unit, x)
				rd := r.mulVec(ex[k])
				jac[0][k], jac[1][k] = s*rd[0], s*rd[1]
			}
			jac[0][3], jac[1][3] = rx[0], rx[1]
			for row := range 2 {
				for u := range 4 {
					g[u] += ws[i] * jac[row][u] * e[row]
					for v := range 4 {
						jtj[u][v] += ws[i] * jac[row][u] * jac[row][v]
					}
				}
			}
			for k := range 3 {
				for l := range 3 {
					var ek, el [3]float64
					ek[k], el[l] = 1, 1
					d2 := cross(ek, cross(el, x))
					d2b := cross(el, cross(ek, x))
					v := r.mulVec([3]float64{(d2[0] + d2b[0]) / 2, (d2[1] + d2b[1]) / 2, (d2[2] + d2b[2]) / 2})
					full[k][l] += ws[i] * s * (e[0]*v[0] + e[1]*v[1])
				}
				v := r.mulVec(ex[k])
				c := ws[i] * (e[0]*v[0] + e[1]*v[1])
				full[k][3] += c
				full[3][k] += c
			}
		}
		for u := range 4 {
			for v := range 4 {
				full[u][v] += jtj[u][v]
			}
			jtj[u][u] *= 1 + 1e-9 // keep the solve defined
		}
		// Newton's step where it descends, Gauss-Newton's otherwise.
		var d [4]float64
		slope := 1.0
		if step, ok := solve4(full, g); ok {
			d = [4]float64{-step[0], -step[1], -step[2], -step[3]}
			slope = 2 * (g[0]*d[0] + g[1]*d[1] + g[2]*d[2] + g[3]*d[3])
		}
		if !(slope < 0) {
			step, ok := solve4(jtj, g)
			if !ok {
				break
			}
			d = [4]float64{-step[0], -step[1], -step[2], -step[3]}
			slope = 2 * (g[0]*d[0] + g[1]*d[1] + g[2]*d[2] + g[3]*d[3])
		}
		if !(slope < 0) {
			break
		}
		a := 1.0
		r1, s1 := apply(d, 1)
		c1 := cost(&r1, s1)
		for c1 > cur && a > 1e-6 {
			a /= 4
			r1, s1 = apply(d, a)
			c1 = cost(&r1, s1)
		}
		if c1 > cur {
			break
		}
		r, s, cur = r1, s1, c1
		if a*(math.Abs(d[0])+math.Abs(d[1])+math.Abs(d[2])) < 1e-14 && math.Abs(a*d[3]) < 1e-14*math.Abs(s) {
			break
		}
	}
	if s < 0 {
		// −s·Π·R = s·Π·Rz(180°)·R: the same camera with a positive scale.
		flip := mat3{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}
		r, s = flip.mul(&r), -s
	}
	return r, fitCost{s: s, cost: cur}
}

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// inverse3 inverts m, reporting a (near) singular matrix.
func inverse3(m *mat3) (mat3, bool) {
	var co mat3
	for i := range 3 {
		for j := range 3 {
			i1, i2 := (i+1)%3, (i+2)%3
			j1, j2 := (j+1)%3, (j+2)%3
			co[j][i] = m[i1][j1]*m[i2][j2] - m[i1][j2]*m[i2][j1]
		}
	}
	det := m[0][0]*co[0][0] + m[0][1]*co[1][0] + m[0][2]*co[2][0]
	var scale float64
	for i := range 3 {
		for j := range 3 {
			scale = math.Max(scale, math.Abs(m[i][j]))
		}
	}
	if scale == 0 || math.Abs(det) < 1e-12*scale*scale*scale {
		return mat3{}, false
	}
	for i := range 3 {
		for j := range 3 {
			co[i][j] /= det
		}
	}
	return co, true
}

// polar returns the matrix with orthonormal rows nearest to a,
// (a·aᵀ)^(−1/2)·a, and the mean of a's two singular values.
func polar(a [2][3]float64) (rows [2][3]float64, s float64, ok bool) {
	var b [2][2]float64
	for i := range 2 {
		for j := range 2 {
			b[i][j] = a[i][0]*a[j][0] + a[i][1]*a[j][1] + a[i][2]*a[j][2]
		}
	}
	// Eigen-decomposition of the symmetric 2×2 b.
	tr, det := b[0][0]+b[1][1], b[0][0]*b[1][1]-b[0][1]*b[1][0]
	disc := math.Sqrt(math.Max(0, tr*tr/4-det))
	l1, l2 := tr/2+disc, tr/2-disc
	if !(l2 > 1e-12*l1) {
		return rows, 0, false
	}
	var u1 [2]float64
	if math.Abs(b[0][1]) > 1e-15*l1 {
		u1 = [2]float64{l1 - b[1][1], b[0][1]}
	} else if b[0][0] >= b[1][1] {
		u1 = [2]float64{1, 0}
	} else {
		u1 = [2]float64{0, 1}
	}
	nu := math.Hypot(u1[0], u1[1])
	u1 = [2]float64{u1[0] / nu, u1[1] / nu}
	u2 := [2]float64{-u1[1], u1[0]}
	s1, s2 := math.Sqrt(l1), math.Sqrt(l2)
	var inv [2][2]float64 // b^(−1/2)
	for i := range 2 {
		for j := range 2 {
			inv[i][j] = u1[i]*u1[j]/s1 + u2[i]*u2[j]/s2
		}
	}
	for i := range 2 {
		for j := range 3 {
			rows[i][j] = inv[i][0]*a[0][j] + inv[i][1]*a[1][j]
		}
	}
	return rows, (s1 + s2) / 2, true
}

// rowsToRotation completes two orthonormal rows to a rotation.
func rowsToRotation(rows [2][3]float64) mat3 {
	return mat3{rows[0], rows[1], cross(rows[0], rows[1])}
}

// solve4 solves h·x = g by Gaussian elimination with partial pivoting.
func solve4(h [4][4]float64, g [4]float64) ([4]float64, bool) {
	const n = 4
	for col := range n {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(h[r][col]) > math.Abs(h[piv][col]) {
				piv = r
			}
		}
		if math.Abs(h[piv][col]) < 1e-300 {
			return g, false
		}
		h[col], h[piv] = h[piv], h[col]
		g[col], g[piv] = g[piv], g[col]
		for r := col + 1; r < n; r++ {
			f := h[r][col] / h[col][col]
			for c := col; c < n; c++ {
				h[r][c] -= f * h[col][c]
			}
			g[r] -= f * g[col]
		}
	}
	var x [4]float64
	for r := n - 1; r >= 0; r-- {
		v := g[r]
		for c := r + 1; c < n; c++ {
			v -= h[r][c] * x[c]
		}
		x[r] = v / h[r][r]
	}
	return x, true
}

// HeadPose fits m to the landmarks p and returns the head's yaw, pitch and
// roll in degrees (see Pose).
func HeadPose(p *Points, m *Model) (yaw, pitch, roll float64, err error) {
	if err := p.check(); err != nil {
		return 0, 0, 0, err
	}
	f, err := fitWeak(p, m)
	if err != nil {
		return 0, 0, 0, err
	}
	yaw, pitch, roll = angles(&f.R)
	return yaw, pitch, roll, nil
}
