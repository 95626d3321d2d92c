package rl

import "math"

// The tanh-squashed Gaussian policy of SAC (Haarnoja et al. 2018, appendix
// C) as RLPD builds it (TanhNormal in ikostrikov/rlpd, copied into
// pd-perry/RLIF models/distributions.py): the network outputs a mean μ and
// a log standard deviation per action dimension, log σ is clipped to
// [logStdMin, logStdMax], u = μ + σ·ε with ε ~ N(0, 1), and the action is
// a = tanh(u) in [-1, 1] (normalised action units).
const (
	// logStdMin and logStdMax are RLPD's clip of the actor's log std
	// (Normal.log_std_min = -20, log_std_max = 2 in
	// pd-perry/RLIF models/distributions.py); nn.Head's Gaussian defaults
	// are the same, so the saved actor's head agrees.
	logStdMin  = -20
	logStdMax  = 2
	log2       = 0.6931471805599453
	halfLog2Pi = 0.9189385332046727 // ½·ln 2π
)

// softplus is ln(1 + eˣ) without overflow.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	if x < -30 {
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}

// logJacobian is ln(1 − tanh²u), computed as 2·(ln 2 − u − softplus(−2u)),
// the stable form TensorFlow Probability's Tanh bijector uses: the direct
// form loses all precision once tanh u rounds to ±1.
func logJacobian(u float64) float64 { return 2 * (log2 - u - softplus(-2*u)) }

// clipLogStd clips a raw log std and reports whether it was inside the
// range (the clip passes no gradient outside it).
func clipLogStd(ls float64) (float64, bool) {
	switch {
	case ls < logStdMin:
		return logStdMin, false
	case ls > logStdMax:
		return logStdMax, false
	}
	return ls, true
}

// squashedLogProb1 is one dimension's term of log π(a) for a = tanh(u),
// u = μ + σ·ε: the Gaussian's log-density of u minus the log-Jacobian of
// tanh, −ε²/2 − log σ − ½ ln 2π − ln(1 − tanh² u). The actor's update sums
// it over dimensions.
func squashedLogProb1(eps, logStd, u float64) float64 {
	return -0.5*eps*eps - logStd - halfLog2Pi - logJacobian(u)
}
