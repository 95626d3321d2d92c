package pusht

import (
	"math"
	"testing"
)

func TestCoverage(t *testing.T) {
	origin := pose{}
	cases := []struct {
		name        string
		block, goal pose
		want        float64
	}{
		{"identical at the goal", goalPose, goalPose, 1},
		{"identical at the origin", origin, origin, 1},
		{"far apart", pose{vec{100, 100}, 0}, pose{vec{400, 400}, 1}, 0},
		// Turned half a turn about the origin, the T lies on y ≤ 0 and
		// touches the goal along the bar's edge only.
		{"touching along an edge", pose{vec{}, math.Pi}, origin, 0},
		// Shifted 10 px along y: bar∩bar 120·20 + bar∩stem 30·10 +
		// stem∩stem 30·80 = 5100 of 6300.
		{"shifted 10 px in y", pose{vec{0, 10}, 0}, origin, 5100.0 / 6300},
		// Shifted 10 px along x: bar∩bar 110·30 + stem∩stem 20·90 = 5100.
		{"shifted 10 px in x", pose{vec{10, 0}, 0}, origin, 5100.0 / 6300},
		// A quarter turn about the origin: the bar becomes x ∈ [−30, 0],
		// y ∈ [−60, 60] and the stem x ∈ [−120, −30], y ∈ [−15, 15]:
		// bar∩bar 30·30 + bar∩stem 15·30 + stem∩bar 30·15 = 1800.
		{"quarter turn", pose{vec{}, math.Pi / 2}, origin, 1800.0 / 6300},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := coverage(c.block, c.goal); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("coverage: got %.15f; want %.15f", got, c.want)
			}
			if got := coverage(c.goal, c.block); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("coverage swapped: got %.15f; want %.15f", got, c.want)
			}
		})
	}
}

func TestClipAreaSquares(t *testing.T) {
	sq := func(x0, y0, s float64) [4]vec {
		return [4]vec{{x0, y0}, {x0 + s, y0}, {x0 + s, y0 + s}, {x0, y0 + s}}
	}
	a := sq(0, 0, 10)
	// A diamond inscribed in a: its area, 50.
	d := [4]vec{{5, 0}, {10, 5}, {5, 10}, {0, 5}}
	cases := []struct {
		name string
		p, q [4]vec
		want float64
	}{
		{"self", a, a, 100},
		{"quarter overlap", a, sq(5, 5, 10), 25},
		{"inside", a, sq(2, 2, 3), 9},
		{"diamond", a, d, 50},
		{"disjoint", a, sq(20, 0, 5), 0},
	}
	for _, c := range cases {
		if got := clipArea(&c.p, &c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: got %v; want %v", c.name, got, c.want)
		}
	}
}

func TestCoverageDoesNotAllocate(t *testing.T) {
	b := pose{vec{250, 260}, 0.7}
	if n := testing.AllocsPerRun(100, func() { coverage(b, goalPose) }); n != 0 {
		t.Errorf("coverage allocates %v times; want 0", n)
	}
}
