package rl

import (
	"math"
	"testing"

	"tandem/policies/nn"
)

// squashedLogProb is log π(a) for a = tanh(u), u = μ + σ·ε, as the agent
// sums it: Σ_d [−ε_d²/2 − log σ_d − ½ ln 2π − ln(1 − tanh² u_d)].
func squashedLogProb(eps, logStd, u []float64) float64 {
	var lp float64
	for d, e := range eps {
		lp += squashedLogProb1(e, logStd[d], u[d])
	}
	return lp
}

// tanhGaussLogProb is log π(a) of an action a in (-1, 1) under mean mu and
// log std logStd (already clipped): the density of u = atanh(a) divided by
// the Jacobian 1 − a². The tests compare the reparameterised form with
// it.
func tanhGaussLogProb(a, mu, logStd []float64) float64 {
	var lp float64
	for d := range a {
		u := math.Atanh(a[d])
		z := (u - mu[d]) / math.Exp(logStd[d])
		lp += -0.5*z*z - logStd[d] - halfLog2Pi - logJacobian(u)
	}
	return lp
}

// normalCDF is Φ(z).
func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// The reparameterised log-probability (Gaussian log-density of u minus the
// log-Jacobian of tanh) equals the density of a = tanh(u) measured
// numerically: P(a−h < A < a+h)/2h from the Gaussian CDF at atanh of the
// bounds, which involves no Jacobian formula at all.
func TestSquashedLogProbMatchesNumericalDensity(t *testing.T) {
	r := nn.NewRand(7)
	for _, c := range []struct{ mu, ls float64 }{{0, 0}, {0.5, -1}, {-1.2, 0.3}, {2, -2}, {0.1, 1.5}, {-3, -0.5}} {
		for range 20 {
			e := r.Norm()
			u := c.mu + math.Exp(c.ls)*e
			a := math.Tanh(u)
			if math.Abs(a) > 0.999 {
				continue // too close to ±1 for a float64 finite difference
			}
			lp := squashedLogProb([]float64{e}, []float64{c.ls}, []float64{u})
			if other := tanhGaussLogProb([]float64{a}, []float64{c.mu}, []float64{c.ls}); math.Abs(lp-other) > 1e-6*max(1, math.Abs(lp)) {
				t.Fatalf("μ %g log σ %g u %g: reparameterised %g; change of variables %g", c.mu, c.ls, u, lp, other)
			}
			h := 1e-5 * (1 - a*a)
			sigma := math.Exp(c.ls)
			p := (normalCDF((math.Atanh(a+h)-c.mu)/sigma) - normalCDF((math.Atanh(a-h)-c.mu)/sigma)) / (2 * h)
			if math.Abs(math.Exp(lp)-p) > 1e-4*p+1e-9 {
				t.Fatalf("μ %g log σ %g a %g: exp(log π) %g; numerical density %g", c.mu, c.ls, a, math.Exp(lp), p)
			}
		}
	}
}

// The actor update's log π of each row (two action dimensions) is the
// change-of-variables density of the action it drew, summed over the
// dimensions.
func TestAgentLogProbSumsDimensions(t *testing.T) {
	g, s := benchAgent(t, 2, 16, 32)
	g.Update(s) // ActorEvery 1: an actor step
	ad, checked := g.ad, 0
	for r := range g.rows {
		a, mu, ls := make([]float64, ad), make([]float64, ad), make([]float64, ad)
		for d := range ad {
			a[d] = math.Tanh(g.u[r*ad+d])
			mu[d] = float64(g.raw[r*2*ad+d])
			ls[d], _ = clipLogStd(float64(g.raw[r*2*ad+ad+d]))
		}
		if math.Abs(a[0]) > 0.999 || math.Abs(a[1]) > 0.999 {
			continue // atanh too imprecise near ±1
		}
		checked++
		if want := tanhGaussLogProb(a, mu, ls); math.Abs(g.logp[r]-want) > 1e-6*max(1, math.Abs(want)) {
			t.Fatalf("row %d: log π %g; change of variables %g", r, g.logp[r], want)
		}
	}
	if checked < g.rows/2 {
		t.Fatalf("only %d of %d rows checked", checked, g.rows)
	}
}

// The stable log-Jacobian agrees with ln(1 − tanh²u) where the latter is
// exact and stays finite where tanh u rounds to ±1.
func TestLogJacobian(t *testing.T) {
	for _, u := range []float64{-3, -0.5, 0, 0.1, 2} {
		th := math.Tanh(u)
		if d := logJacobian(u) - math.Log(1-th*th); math.Abs(d) > 1e-12 {
			t.Fatalf("u %g: %g vs %g", u, logJacobian(u), math.Log(1-th*th))
		}
	}
	for _, u := range []float64{-40, 40} {
		if v := logJacobian(u); math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v-(2*log2-2*math.Abs(u))) > 1e-9 {
			t.Fatalf("u %g: log-Jacobian %g; want ≈ %g", u, v, 2*log2-2*math.Abs(u))
		}
	}
}

// actorGrad is the gradient of w·log π(a) + f(a), a = tanh(μ + σ·ε), with
// respect to the raw mean and log std, checked by central differences.
func TestActorGradFiniteDifference(t *testing.T) {
	f := func(a float64) float64 { return 1.7 * (a - 0.3) * (a - 0.3) } // a stand-in for −Q/n
	df := func(a float64) float64 { return 3.4 * (a - 0.3) }
	loss := func(mu, rawLs, e, w float64) float64 {
		ls, _ := clipLogStd(rawLs)
		u := mu + math.Exp(ls)*e
		return w*squashedLogProb([]float64{e}, []float64{ls}, []float64{u}) + f(math.Tanh(u))
	}
	for _, c := range []struct{ mu, ls, e, w float64 }{{0.2, -0.5, 0.7, 0.01}, {-1, 0.5, -1.3, 0.5}, {1.5, -2, 0.1, 1}, {0, 1.9, 2, 0.2}, {0.3, 3, 0.5, 0.1}} {
		ls, _ := clipLogStd(c.ls)
		u := c.mu + math.Exp(ls)*c.e
		dmu, dls := actorGrad(c.ls, c.e, u, c.w, df(math.Tanh(u)))
		const h = 1e-6
		nmu := (loss(c.mu+h, c.ls, c.e, c.w) - loss(c.mu-h, c.ls, c.e, c.w)) / (2 * h)
		nls := (loss(c.mu, c.ls+h, c.e, c.w) - loss(c.mu, c.ls-h, c.e, c.w)) / (2 * h)
		if math.Abs(dmu-nmu) > 1e-6*max(1, math.Abs(nmu)) || math.Abs(dls-nls) > 1e-6*max(1, math.Abs(nls)) {
			t.Fatalf("%+v: gradient (%g, %g); numerical (%g, %g)", c, dmu, dls, nmu, nls)
		}
	}
}
