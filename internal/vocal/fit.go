package vocal

import (
	"math"
)

// standardizer maps raw feature values to z-scores with the means and
// standard deviations of a fitting set, bounded to ±clamp when clamp > 0.
// A missing value (NaN) becomes 0, the fitting set's mean.
type standardizer struct {
	mean, sd []float64
	clamp    float64
}

// newStandardizer takes the mean and sample standard deviation of each
// column of x over its finite values; a constant or empty column gets
// standard deviation 1.
func newStandardizer(x [][]float64, d int) standardizer {
	s := standardizer{mean: make([]float64, d), sd: make([]float64, d)}
	for j := 0; j < d; j++ {
		var sum float64
		var n int
		for _, row := range x {
			if v := row[j]; !math.IsNaN(v) {
				sum += v
				n++
			}
		}
		if n == 0 {
			s.sd[j] = 1
			continue
		}
		m := sum / float64(n)
		var ss float64
		for _, row := range x {
			if v := row[j]; !math.IsNaN(v) {
				ss += (v - m) * (v - m)
			}
		}
		s.mean[j] = m
		s.sd[j] = 1
		if n > 1 && ss > 0 {
			s.sd[j] = math.Sqrt(ss / float64(n-1))
		}
	}
	return s
}

func (s standardizer) apply(row []float64) []float64 {
	z := make([]float64, len(row))
	for j, v := range row {
		if !math.IsNaN(v) {
			z[j] = s.z(j, v)
		}
	}
	return z
}

func (s standardizer) z(j int, v float64) float64 { return clampZ((v-s.mean[j])/s.sd[j], s.clamp) }

func (s standardizer) applyAll(x [][]float64) [][]float64 {
	z := make([][]float64, len(x))
	for i, row := range x {
		z[i] = s.apply(row)
	}
	return z
}

// softmaxFit is a multinomial logistic regression over k classes and d
// standardized features: params holds, class by class, the intercept and
// then the d weights.
type softmaxFit struct {
	k, d   int
	params []float64
}

func (m softmaxFit) row(c int) []float64 { return m.params[c*(m.d+1) : (c+1)*(m.d+1)] }

// probs returns the class probabilities of z.
func (m softmaxFit) probs(z []float64) []float64 {
	p := make([]float64, m.k)
	logits(m.params, m.k, m.d, z, p)
	softmaxInPlace(p)
	return p
}

func logits(params []float64, k, d int, z, out []float64) {
	for c := 0; c < k; c++ {
		w := params[c*(d+1) : (c+1)*(d+1)]
		out[c] = w[0] + dot4(w[1:], z)
	}
}

// dot4 is the dot product of a and b[:len(a)] in four interleaved sums.
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy4 adds r·x to y[:len(x)].
func axpy4(r float64, x, y []float64) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += r * x[i]
		y[i+1] += r * x[i+1]
		y[i+2] += r * x[i+2]
		y[i+3] += r * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += r * x[i]
	}
}

func softmaxInPlace(p []float64) {
	mx := math.Inf(-1)
	for _, v := range p {
		mx = math.Max(mx, v)
	}
	var s float64
	for i, v := range p {
		p[i] = math.Exp(v - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}

// fitOptions bound the optimiser.
type fitOptions struct {
	maxIter int     // iterations of L-BFGS
	gradTol float64 // stop when the largest gradient component is below this
}

var defaultFitOptions = fitOptions{maxIter: 1000, gradTol: 1e-6}

// fitSoftmax minimises the mean negative log-likelihood of y given z plus
// lambda/2 times the squared weights (intercepts are not penalised), by
// L-BFGS from init (zeros when nil). The result does not depend on
// anything but its arguments.
func fitSoftmax(z [][]float64, y []int, k int, lambda float64, init []float64, opt fitOptions) softmaxFit {
	d := 0
	if len(z) > 0 {
		d = len(z[0])
	}
	np := k * (d + 1)
	x0 := make([]float64, np)
	if init != nil {
		copy(x0, init)
	}
	n := float64(len(z))
	p := make([]float64, k)
	obj := func(w, g []float64) float64 {
		for i := range g {
			g[i] = 0
		}
		var nll float64
		for i, zi := range z {
			logits(w, k, d, zi, p)
			mx := math.Inf(-1)
			for _, v := range p {
				mx = math.Max(mx, v)
			}
			var s float64
			for c := range p {
				p[c] = math.Exp(p[c] - mx)
				s += p[c]
			}
			nll -= math.Log(p[y[i]] / s)
			for c := 0; c < k; c++ {
				r := p[c] / s
				if c == y[i] {
					r--
				}
				gc := g[c*(d+1) : (c+1)*(d+1)]
				gc[0] += r
				axpy4(r, zi, gc[1:])
			}
		}
		f := nll / n
		for c := 0; c < k; c++ {
			wc := w[c*(d+1) : (c+1)*(d+1)]
			gc := g[c*(d+1) : (c+1)*(d+1)]
			gc[0] /= n
			for j := 1; j <= d; j++ {
				gc[j] = gc[j]/n + lambda*wc[j]
				f += 0.5 * lambda * wc[j] * wc[j]
			}
		}
		return f
	}
	w := lbfgs(obj, x0, opt)
	// Softmax is unchanged by adding a constant to every class's
	// intercept; centre them so that the intercepts read as class
	// preferences. (The penalty already centres the weights.)
	var mb float64
	for c := 0; c < k; c++ {
		mb += w[c*(d+1)]
	}
	mb /= float64(k)
	for c := 0; c < k; c++ {
		w[c*(d+1)] -= mb
	}
	return softmaxFit{k: k, d: d, params: w}
}

// lbfgs minimises f (which writes its gradient into g) from x0 with
// limited-memory BFGS (10 pairs) and a backtracking line search under the
// Armijo condition.
func lbfgs(f func(x, g []float64) float64, x0 []float64, opt fitOptions) []float64 {
	const mem = 10
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	fx := f(x, g)
	var ss, ys [][]float64
	var rhos []float64
	dir := make([]float64, n)
	alpha := make([]float64, mem)
	xn := make([]float64, n)
	gn := make([]float64, n)
	for iter := 0; iter < opt.maxIter; iter++ {
		if maxAbs(g) < opt.gradTol {
			break
		}
		// Two-loop recursion: dir = -H g.
		for i := range dir {
			dir[i] = -g[i]
		}
		for i := len(ss) - 1; i >= 0; i-- {
			alpha[i] = rhos[i] * dotF(ss[i], dir)
			axpy(-alpha[i], ys[i], dir)
		}
		if m := len(ss); m > 0 {
			scale(dotF(ss[m-1], ys[m-1])/dotF(ys[m-1], ys[m-1]), dir)
		} else {
			scale(1/math.Max(1, math.Sqrt(dotF(g, g))), dir)
		}
		for i := 0; i < len(ss); i++ {
			b := rhos[i] * dotF(ys[i], dir)
			axpy(alpha[i]-b, ss[i], dir)
		}
		gd := dotF(g, dir)
		if gd >= 0 { // not a descent direction: restart from steepest descent
			ss, ys, rhos = nil, nil, nil
			for i := range dir {
				dir[i] = -g[i]
			}
			gd = dotF(g, dir)
		}
		step := 1.0
		var fn float64
		ok := false
		for try := 0; try < 40; try++ {
			for i := range xn {
				xn[i] = x[i] + step*dir[i]
			}
			fn = f(xn, gn)
			if fn <= fx+1e-4*step*gd {
				ok = true
				break
			}
			step *= 0.5
		}
		if !ok {
			break
		}
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range s {
			s[i] = xn[i] - x[i]
			y[i] = gn[i] - g[i]
		}
		if sy := dotF(s, y); sy > 1e-12 {
			if len(ss) == mem {
				ss, ys, rhos = ss[1:], ys[1:], rhos[1:]
			}
			ss, ys, rhos = append(ss, s), append(ys, y), append(rhos, 1/sy)
		}
		done := fx-fn <= 1e-12*math.Max(1, math.Abs(fx))
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if done {
			break
		}
	}
	return x
}

func dotF(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// normalizer turns raw feature rows into the z-scores the emotion model
// reads. Without a gender stage it standardizes against the whole fitting
// population. With one, a logistic regression on the population z-scores
// estimates the probability pf that the voice is female, and each feature
// is standardized against the mixture pf·(female mean, sd) +
// (1−pf)·(male mean, sd) of the fitting set's women and men.
type normalizer struct {
	pooled       standardizer
	gender       *softmaxFit // classes male, female
	male, female standardizer
}

func fitNormalizer(ds dataset, s Settings) normalizer {
	d := len(s.Features)
	n := normalizer{pooled: newStandardizer(ds.x, d)}
	n.pooled.clamp = s.ZClamp
	if !s.GenderNorm {
		return n
	}
	var xm, xf [][]float64
	g := make([]int, len(ds.x))
	for i, row := range ds.x {
		if ds.female[i] {
			xf = append(xf, row)
			g[i] = 1
		} else {
			xm = append(xm, row)
		}
	}
	if len(xm) < 2 || len(xf) < 2 {
		return n // one gender only: the population is the only reference
	}
	gm := fitSoftmax(n.pooled.applyAll(ds.x), g, 2, s.GenderLambda, nil, s.fitOptions())
	n.gender = &gm
	n.male, n.female = newStandardizer(xm, d), newStandardizer(xf, d)
	return n
}

// reference returns the mean and standard deviation feature j is
// standardized against for a voice female with probability pf.
func (n normalizer) reference(j int, pf float64) (mean, sd float64) {
	if n.gender == nil {
		return n.pooled.mean[j], n.pooled.sd[j]
	}
	return pf*n.female.mean[j] + (1-pf)*n.male.mean[j], pf*n.female.sd[j] + (1-pf)*n.male.sd[j]
}

// femaleProb is the gender stage's probability that row is a female
// voice, NaN without a gender stage.
func (n normalizer) femaleProb(row []float64) float64 {
	if n.gender == nil {
		return math.NaN()
	}
	return n.gender.probs(n.pooled.apply(row))[1]
}

func (n normalizer) apply(row []float64) []float64 {
	if n.gender == nil {
		return n.pooled.apply(row)
	}
	pf := n.femaleProb(row)
	z := make([]float64, len(row))
	for j, v := range row {
		if math.IsNaN(v) {
			continue
		}
		m, sd := n.reference(j, pf)
		z[j] = clampZ((v-m)/sd, n.pooled.clamp)
	}
	return z
}

func (n normalizer) applyAll(x [][]float64) [][]float64 {
	z := make([][]float64, len(x))
	for i, row := range x {
		z[i] = n.apply(row)
	}
	return z
}

func clampZ(z, c float64) float64 {
	if c > 0 {
		return math.Max(-c, math.Min(c, z))
	}
	return z
}
