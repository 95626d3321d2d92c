package manip

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

func TestJointRatesFollowTipVelocity(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    [3]float64
		v    mgl64.Vec2
	}{
		{"bent", [3]float64{1.0, 0.8, -0.6}, mgl64.Vec2{5, -3}},
		{"folded", [3]float64{2.0, -1.9, 1.2}, mgl64.Vec2{-4, 2}},
		{"slow", [3]float64{0.5, 0.5, 0.5}, mgl64.Vec2{0.5, 0.2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dq := jointRates(tc.q, tc.v)
			const h = 1e-6
			var q2 [3]float64
			for i := range q2 {
				q2[i] = tc.q[i] + h*dq[i]
			}
			got := forward(q2).Sub(forward(tc.q)).Mul(1 / h)
			// Damping trades a little accuracy for bounded rates: within 3%.
			if got.Sub(tc.v).Len() > 0.03*tc.v.Len() {
				t.Errorf("got tip velocity %v; want %v", got, tc.v)
			}
		})
	}
}

func TestJointRatesBoundedAtSingularity(t *testing.T) {
	// Straight arm: the tip cannot move radially at all.
	dq := jointRates([3]float64{math.Pi / 2, 0, 0}, mgl64.Vec2{0, 20})
	for i, v := range dq {
		if math.IsNaN(v) || math.Abs(v) > maxJointSpeed+1e-9 {
			t.Errorf("joint %d: got rate %v; want finite, |rate| ≤ %v", i, v, maxJointSpeed)
		}
	}
}

func TestReachJointLimitsHold(t *testing.T) {
	task := NewReach()
	task.Reset(9)
	task.Act([]float64{-1, -1}, 0.05) // drive down and left for 4 s: folds into the limits
	for range 4 * reachPhysicsHz {
		task.Substep(1.0 / reachPhysicsHz)
	}
	for i, q := range task.angles() {
		if q < jointLow[i]-0.02 || q > jointHigh[i]+0.02 {
			t.Errorf("joint %d: got angle %.3f; want within [%.3f, %.3f]", i, q, jointLow[i], jointHigh[i])
		}
	}
}

func TestReachSuccessNeedsFiveSteps(t *testing.T) {
	task := NewReach()
	task.Reset(4)
	p := task.tip()
	task.target = p
	zero := []float64{0, 0}
	for step := 1; step <= reachHold; step++ {
		task.Act(zero, 1.0/reachHz)
		for range reachPhysicsHz / reachHz {
			task.Substep(1.0 / reachPhysicsHz)
		}
		task.EndPeriod()
		if got, want := task.Success(), step == reachHold; got != want {
			t.Fatalf("after %d steps on target: got success %v; want %v", step, got, want)
		}
	}
	if !task.Terminal() {
		t.Error("got Terminal false on success; want true")
	}
}
