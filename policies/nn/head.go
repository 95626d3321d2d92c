package nn

import (
	"fmt"
	"math"
)

// HeadKind names how a network's outputs become an action and a loss.
type HeadKind string

// Head kinds.
const (
	// Deterministic outputs the action itself; loss: mean squared error over
	// action dimensions. Critics use it with one output.
	Deterministic HeadKind = "deterministic"
	// Gaussian outputs [mean (A) | log std (A)], log std clamped; loss:
	// negative log-likelihood of a diagonal Gaussian; action: the mean.
	Gaussian HeadKind = "gaussian"
	// GMM outputs robomimic's GMM head, [means (K×A) | scales (K×A) |
	// logits (K)], std = softplus(scale) + MinStd; loss: negative
	// log-likelihood of the mixture; action: the mean of the most likely
	// mode (robomimic samples the mixture; tandem's Act is deterministic).
	GMM HeadKind = "gmm"
)

// Head turns raw network outputs into actions (in normalised action units)
// and per-sample losses. The zero values of the optional fields take the
// defaults named on each.
type Head struct {
	Kind HeadKind `json:"kind"`
	// Squash applies tanh to the action (Deterministic) or to the means
	// (Gaussian, GMM; robomimic's GMM does so by default), keeping actions in
	// the normalised bounds [-1, 1].
	Squash bool `json:"tanh_squash"`
	// LogStdMin and LogStdMax clamp a Gaussian's log std; defaults -20 and 2
	// (RLPD's TanhNormal policy).
	LogStdMin float64 `json:"log_std_min,omitempty"`
	LogStdMax float64 `json:"log_std_max,omitempty"`
	// Modes is the number of mixture components (GMM; default 5, Sirius).
	Modes int `json:"modes,omitempty"`
	// MinStd is added to softplus(scale) (GMM; default 1e-4, Sirius).
	MinStd float64 `json:"min_std,omitempty"`
}

// withDefaults fills the zero optional fields.
func (h Head) withDefaults() Head {
	switch h.Kind {
	case Gaussian:
		if h.LogStdMin == 0 && h.LogStdMax == 0 {
			h.LogStdMin, h.LogStdMax = -20, 2
		}
	case GMM:
		if h.Modes == 0 {
			h.Modes = 5
		}
		if h.MinStd == 0 {
			h.MinStd = 1e-4
		}
	}
	return h
}

// Validate reports the first problem with h.
func (h Head) Validate() error {
	h = h.withDefaults()
	switch h.Kind {
	case Deterministic:
	case Gaussian:
		if !(h.LogStdMin < h.LogStdMax) {
			return fmt.Errorf("nn: gaussian head: log std bounds [%g, %g]", h.LogStdMin, h.LogStdMax)
		}
	case GMM:
		if h.Modes < 1 || h.Modes > maxModes || !(h.MinStd >= 0) {
			return fmt.Errorf("nn: gmm head: %d modes, min std %g", h.Modes, h.MinStd)
		}
	case "":
		return fmt.Errorf("nn: no head kind (%s, %s, %s)", Deterministic, Gaussian, GMM)
	default:
		return fmt.Errorf("nn: unknown head kind %q (%s, %s, %s)", h.Kind, Deterministic, Gaussian, GMM)
	}
	return nil
}

// OutSize is the number of raw network outputs for act action dimensions.
func (h Head) OutSize(act int) int {
	h = h.withDefaults()
	switch h.Kind {
	case Gaussian:
		return 2 * act
	case GMM:
		return h.Modes * (2*act + 1)
	}
	return act
}

const halfLog2Pi = 0.9189385332046727 // ½·ln 2π

// Loss returns Σ_r w[r]·ℓ_r over rows rows of raw outputs (rows×OutSize)
// against targets (rows×act, normalised actions), and writes
// scale·w[r]·∂ℓ_r/∂raw into grad (rows×OutSize). w nil means all ones.
// ℓ is the mean squared error over dimensions (Deterministic) or the
// negative log-likelihood (Gaussian, GMM). It allocates nothing.
func (h Head) Loss(raw, target []float32, rows, act int, w []float32, scale float32, grad []float32) float64 {
	h = h.withDefaults()
	n := h.OutSize(act)
	var total float64
	for r := range rows {
		wr := float32(1)
		if w != nil {
			wr = w[r]
		}
		o, y, g := raw[r*n:(r+1)*n], target[r*act:(r+1)*act], grad[r*n:(r+1)*n]
		var l float64
		switch h.Kind {
		case Deterministic:
			l = h.mse(o, y, g, wr*scale)
		case Gaussian:
			l = h.gaussian(o, y, g, wr*scale)
		case GMM:
			l = h.gmm(o, y, g, wr*scale)
		}
		total += float64(wr) * l
	}
	return total
}

func (h Head) mse(o, y, g []float32, s float32) float64 {
	var l float64
	inv := 1 / float32(len(y))
	for d, t := range y {
		p := o[d]
		if h.Squash {
			p = float32(math.Tanh(float64(p)))
		}
		e := p - t
		l += float64(e * e)
		gd := 2 * e * inv * s
		if h.Squash {
			gd *= 1 - p*p
		}
		g[d] = gd
	}
	return l / float64(len(y))
}

func (h Head) gaussian(o, y, g []float32, s float32) float64 {
	act := len(y)
	var l float64
	for d, t := range y {
		mu := float64(o[d])
		if h.Squash {
			mu = math.Tanh(mu)
		}
		ls := float64(o[act+d])
		inRange := ls >= h.LogStdMin && ls <= h.LogStdMax
		ls = min(max(ls, h.LogStdMin), h.LogStdMax)
		sigma := math.Exp(ls)
		z := (float64(t) - mu) / sigma
		l += 0.5*z*z + ls + halfLog2Pi
		dmu := -z / sigma
		if h.Squash {
			dmu *= 1 - mu*mu
		}
		g[d] = float32(dmu) * s
		if inRange {
			g[act+d] = float32(1-z*z) * s
		} else {
			g[act+d] = 0
		}
	}
	return l
}

// gmm is the mixture's negative log-likelihood with responsibilities
// r_k = p(k | y): ∂ℓ/∂logit_k = π_k − r_k, ∂ℓ/∂μ = −r_k·z/σ,
// ∂ℓ/∂σ = r_k·(1 − z²)/σ, chained through tanh and softplus.
func (h Head) gmm(o, y, g []float32, s float32) float64 {
	act, K := len(y), h.Modes
	means, scales, logits := o[:K*act], o[K*act:2*K*act], o[2*K*act:2*K*act+K]
	var lpBuf [maxModes]float64
	lp := lpBuf[:K]
	lse := logSumExp32(logits)
	for k := range K {
		v := float64(logits[k]) - lse
		for d, t := range y {
			mu := float64(means[k*act+d])
			if h.Squash {
				mu = math.Tanh(mu)
			}
			sigma := softplus(float64(scales[k*act+d])) + h.MinStd
			z := (float64(t) - mu) / sigma
			v += -0.5*z*z - math.Log(sigma) - halfLog2Pi
		}
		lp[k] = v
	}
	logp := logSumExp(lp)
	for k := range K {
		resp := math.Exp(lp[k] - logp)
		pi := math.Exp(float64(logits[k]) - lse)
		g[2*K*act+k] = float32(pi-resp) * s
		for d, t := range y {
			m := float64(means[k*act+d])
			mu := m
			if h.Squash {
				mu = math.Tanh(m)
			}
			sc := float64(scales[k*act+d])
			sigma := softplus(sc) + h.MinStd
			z := (float64(t) - mu) / sigma
			dmu := -resp * z / sigma
			if h.Squash {
				dmu *= 1 - mu*mu
			}
			dsig := resp * (1 - z*z) / sigma
			g[k*act+d] = float32(dmu) * s
			g[K*act+k*act+d] = float32(dsig*sigmoid(sc)) * s
		}
	}
	return -logp
}

// maxModes bounds GMM modes so the head's scratch lives on the stack.
const maxModes = 64

// Predict writes the action, in normalised units, for one row of raw
// outputs.
func (h Head) Predict(raw []float32, act int, dst []float32) {
	h = h.withDefaults()
	off := 0
	if h.Kind == GMM {
		K := h.Modes
		logits := raw[2*K*act : 2*K*act+K]
		best := 0
		for k, v := range logits {
			if v > logits[best] {
				best = k
			}
		}
		off = best * act
	}
	for d := range act {
		v := raw[off+d]
		if h.Squash {
			v = float32(math.Tanh(float64(v)))
		}
		dst[d] = v
	}
}

func softplus(x float64) float64 {
	if x > 20 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

func logSumExp32(v []float32) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, float64(x))
	}
	var s float64
	for _, x := range v {
		s += math.Exp(float64(x) - m)
	}
	return m + math.Log(s)
}
