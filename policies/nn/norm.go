package nn

import (
	"errors"
	"fmt"
	"math"
)

// Normalizer maps raw observations and actions to the network's units:
// observations to (o − mean)/std per dimension with statistics from the
// training data, actions to [-1, 1] from the task's bounds,
// a_n = 2·(a − low)/(high − low) − 1, and back.
type Normalizer struct {
	ObsMean []float32 `json:"-"`
	ObsStd  []float32 `json:"-"`
	ActLow  []float32 `json:"-"`
	ActHigh []float32 `json:"-"`
}

// minStd replaces the std of a dimension that barely varies in the data: a
// constant observation (a fixed goal, say) is centred but not scaled up.
const minStd = 1e-6

// NewNormalizer computes observation statistics from obs (rows of obsDim)
// and takes the action bounds. A dimension whose std is below 1e-6 gets
// std 1.
func NewNormalizer(obs []float32, obsDim int, low, high []float64) (*Normalizer, error) {
	if obsDim <= 0 || len(obs)%obsDim != 0 || len(obs) == 0 {
		return nil, fmt.Errorf("nn: normalizer: %d values do not make rows of %d", len(obs), obsDim)
	}
	if len(low) != len(high) || len(low) == 0 {
		return nil, fmt.Errorf("nn: normalizer: action bounds of %d and %d entries", len(low), len(high))
	}
	n := &Normalizer{ObsMean: make([]float32, obsDim), ObsStd: make([]float32, obsDim),
		ActLow: make([]float32, len(low)), ActHigh: make([]float32, len(low))}
	rows := len(obs) / obsDim
	for d := range obsDim {
		var s float64
		for r := range rows {
			s += float64(obs[r*obsDim+d])
		}
		mean := s / float64(rows)
		var ss float64
		for r := range rows {
			c := float64(obs[r*obsDim+d]) - mean
			ss += c * c
		}
		std := math.Sqrt(ss / float64(rows))
		if !(std >= minStd) {
			std = 1
		}
		n.ObsMean[d], n.ObsStd[d] = float32(mean), float32(std)
	}
	for i := range low {
		if !(low[i] < high[i]) {
			return nil, fmt.Errorf("nn: normalizer: action %d bounds [%g, %g]", i, low[i], high[i])
		}
		n.ActLow[i], n.ActHigh[i] = float32(low[i]), float32(high[i])
	}
	return n, n.validate()
}

// Identity returns a normalizer that changes nothing: zero mean, unit std,
// action bounds [-1, 1].
func Identity(obsDim, actDim int) *Normalizer {
	n := &Normalizer{ObsMean: make([]float32, obsDim), ObsStd: make([]float32, obsDim),
		ActLow: make([]float32, actDim), ActHigh: make([]float32, actDim)}
	for i := range n.ObsStd {
		n.ObsStd[i] = 1
	}
	for i := range n.ActLow {
		n.ActLow[i], n.ActHigh[i] = -1, 1
	}
	return n
}

func (n *Normalizer) validate() error {
	if len(n.ObsMean) != len(n.ObsStd) || len(n.ActLow) != len(n.ActHigh) || len(n.ObsMean) == 0 || len(n.ActLow) == 0 {
		return errors.New("nn: normalizer: mismatched sizes")
	}
	for i := range n.ObsMean {
		if !finite32(n.ObsMean[i]) || !(n.ObsStd[i] > 0) || !finite32(n.ObsStd[i]) {
			return fmt.Errorf("nn: normalizer: observation %d mean %g std %g", i, n.ObsMean[i], n.ObsStd[i])
		}
	}
	for i := range n.ActLow {
		if !finite32(n.ActLow[i]) || !finite32(n.ActHigh[i]) || !(n.ActLow[i] < n.ActHigh[i]) {
			return fmt.Errorf("nn: normalizer: action %d bounds [%g, %g]", i, n.ActLow[i], n.ActHigh[i])
		}
	}
	return nil
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// ObsDim and ActDim are the sizes the normalizer was built for.
func (n *Normalizer) ObsDim() int { return len(n.ObsMean) }

// ActDim is the action size.
func (n *Normalizer) ActDim() int { return len(n.ActLow) }

// NormObs writes (src − mean)/std into dst.
func (n *Normalizer) NormObs(dst, src []float32) {
	for i, v := range src[:len(n.ObsMean)] {
		dst[i] = (v - n.ObsMean[i]) / n.ObsStd[i]
	}
}

// NormObs64 is NormObs from float64 observations.
func (n *Normalizer) NormObs64(dst []float32, src []float64) {
	for i, v := range src[:len(n.ObsMean)] {
		dst[i] = (float32(v) - n.ObsMean[i]) / n.ObsStd[i]
	}
}

// NormAct maps raw actions src into [-1, 1] units.
func (n *Normalizer) NormAct(dst, src []float32) {
	for i, v := range src[:len(n.ActLow)] {
		lo, hi := n.ActLow[i], n.ActHigh[i]
		dst[i] = 2*(v-lo)/(hi-lo) - 1
	}
}

// DenormAct maps normalised actions src back to the task's units.
func (n *Normalizer) DenormAct(dst []float64, src []float32) {
	for i, v := range src[:len(n.ActLow)] {
		lo, hi := n.ActLow[i], n.ActHigh[i]
		dst[i] = float64(lo + (v+1)*0.5*(hi-lo))
	}
}
