package nn

import (
	"fmt"
	"math"
)

// AdamConfig configures Adam with decoupled weight decay (AdamW: Loshchilov
// & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, algorithm 2;
// the update torch.optim.AdamW makes): each step first shrinks every
// parameter by LR·WeightDecay·p, then applies the Adam update, so the decay
// is not scaled by the adaptive denominator as an L2 term in the gradient
// (torch.optim.Adam's weight_decay) would be. With WeightDecay 0 the two are
// the same; robomimic and RLPD train with 0. Zero fields take the defaults
// named on each.
type AdamConfig struct {
	LR          float64 `json:"lr"`           // default 1e-3
	Beta1       float64 `json:"beta1"`        // default 0.9
	Beta2       float64 `json:"beta2"`        // default 0.999
	Eps         float64 `json:"eps"`          // default 1e-8
	WeightDecay float64 `json:"weight_decay"` // decoupled; default 0
	// ClipNorm rescales the whole gradient when its global L2 norm exceeds
	// it, as torch.nn.utils.clip_grad_norm_ (norm/(norm+1e-6)); 0: off.
	ClipNorm float64 `json:"clip_norm"`
}

func (c AdamConfig) withDefaults() AdamConfig {
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

// Validate reports the first problem with c.
func (c AdamConfig) Validate() error {
	c = c.withDefaults()
	if !(c.LR > 0) || !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) || !(c.Eps > 0) || !(c.WeightDecay >= 0) || !(c.ClipNorm >= 0) {
		return fmt.Errorf("nn: adam: invalid settings %+v", c)
	}
	return nil
}

// Adam is the optimiser state for one parameter vector.
type Adam struct {
	cfg  AdamConfig
	m, v []float32
	t    int
}

// NewAdam returns Adam state for n parameters.
func NewAdam(cfg AdamConfig, n int) *Adam {
	return &Adam{cfg: cfg.withDefaults(), m: make([]float32, n), v: make([]float32, n)}
}

// Config returns the settings in force (defaults filled in).
func (o *Adam) Config() AdamConfig { return o.cfg }

// Steps is the number of updates made.
func (o *Adam) Steps() int { return o.t }

// Step clips grad by global norm when configured, then updates params in
// one fused pass and returns the gradient's norm before clipping. It
// allocates nothing.
func (o *Adam) Step(params, grad []float32) float64 {
	norm := 0.0
	if o.cfg.ClipNorm > 0 {
		norm = L2Norm(grad)
	}
	o.t++
	o.apply(params, grad, o.clipScale(norm), 0, len(params))
	return norm
}

// clipScale is the factor clip_grad_norm_ applies for a gradient of norm.
func (o *Adam) clipScale(norm float64) float32 {
	if o.cfg.ClipNorm > 0 && norm > o.cfg.ClipNorm {
		return float32(o.cfg.ClipNorm / (norm + 1e-6))
	}
	return 1
}

// apply updates params[lo:hi] with grad[lo:hi]·gscale as step o.t (the
// caller has counted the step): parts of one step may run in parallel.
func (o *Adam) apply(params, grad []float32, gscale float32, lo, hi int) {
	c := &o.cfg
	c1 := 1 - math.Pow(c.Beta1, float64(o.t))
	c2 := 1 - math.Pow(c.Beta2, float64(o.t))
	b1, b2 := float32(c.Beta1), float32(c.Beta2)
	step := float32(c.LR / c1)
	rc2 := float32(1 / math.Sqrt(c2))
	eps := float32(c.Eps)
	decay := float32(1 - c.LR*c.WeightDecay)
	p := params[lo:hi]
	m, v, g := o.m[lo:hi], o.v[lo:hi], grad[lo:hi]
	m, v, g = m[:len(p)], v[:len(p)], g[:len(p)]
	if vecLoops {
		c := [9]float32{gscale, b1, 1 - b1, b2, 1 - b2, step, rc2, eps, decay}
		n := adamVec(p, g, m, v, &c)
		p, m, v, g = p[n:], m[n:], v[n:], g[n:]
	}
	for i, gi := range g {
		gi *= gscale
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*gi*gi
		m[i], v[i] = mi, vi
		p[i] = p[i]*decay - step*mi/(sqrt32(vi)*rc2+eps)
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// L2Norm is the Euclidean norm of v, accumulated in float64.
func L2Norm(v []float32) float64 { return math.Sqrt(sumSquares(v)) }

func sumSquares(v []float32) float64 {
	var s0, s1 float64
	i := 0
	for ; i+2 <= len(v); i += 2 {
		s0 += float64(v[i]) * float64(v[i])
		s1 += float64(v[i+1]) * float64(v[i+1])
	}
	if i < len(v) {
		s0 += float64(v[i]) * float64(v[i])
	}
	return s0 + s1
}

// Polyak moves target towards src: target = (1−τ)·target + τ·src, the soft
// target update of SAC and RLPD (τ = 0.005). It allocates nothing.
func Polyak(target, src []float32, tau float64) {
	t := float32(tau)
	src = src[:len(target)]
	for i, s := range src {
		target[i] += t * (s - target[i])
	}
}
