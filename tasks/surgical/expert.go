package surgical

import (
	"math"

	"tandem/sim"
)

// Expert tolerances (tandem's choice): a stage is reached when the jaw tip is
// within its tolerance and the jaw direction within angTol.
const (
	angTol   = 3 * deg
	maxStage = 64 // guards the stage loop against a script that never waits
)

// stage is one waypoint of a scripted expert, for one instrument; the other
// instruments hold still with their last jaw command.
type stage struct {
	tool int
	// to gives the jaw tip target and jaw direction (read from privileged
	// state each step, so the script follows moving objects).
	to  func() (vec, float64)
	jaw float64 // +1 open, -1 closed
	tol float64 // cm
	// wait is the least number of steps spent in the stage; until, when
	// set, must also hold before moving on.
	wait  int
	until func() bool
	// freeze evaluates to once, on entering the stage, and keeps that
	// waypoint (for moves relative to where the tool is then).
	freeze bool
	// After timeout steps (0: never) the script goes back to stage retry.
	timeout, retry int
}

// script is a waypoint expert as in SurRoL's oracles: P-control of the jaw
// tip and direction towards the current stage's waypoint, actions clipped
// to [-1, 1], with the task's gain.
type script struct {
	s    *bench
	gain float64
	// speed caps the translation command (0: 1, the full step).
	speed  float64
	stages []stage
	// build fills stages for a new episode from the task's state.
	build func(sc *script)

	episode uint64
	i, n    int
	jaw     [2]float64
	// frozen waypoint of a freeze stage, valid when held is true
	fp     vec
	fphi   float64
	frozen bool
}

// target is the current waypoint of st.
func (sc *script) target(st *stage) (vec, float64) {
	if !st.freeze {
		return st.to()
	}
	if !sc.frozen {
		sc.fp, sc.fphi = st.to()
		sc.frozen = true
	}
	return sc.fp, sc.fphi
}

// goTo moves to stage i.
func (sc *script) goTo(i int) { sc.i, sc.n, sc.frozen = i, 0, false }

// Reset restarts the script; it also restarts by itself when the task
// begins a new episode.
func (sc *script) Reset(uint64) { sc.episode = 0 }

func (sc *script) start() {
	sc.episode = sc.s.episode
	sc.goTo(0)
	sc.jaw = [2]float64{1, 1}
	for k, in := range sc.s.tools {
		if in.closed() {
			sc.jaw[k] = -1
		}
	}
	sc.stages = sc.stages[:0]
	sc.build(sc)
}

// Act writes the scripted action; obs is not used (the script reads the
// task's state directly).
func (sc *script) Act(_, dst []float64) {
	if sc.episode != sc.s.episode {
		sc.start()
	}
	for guard := 0; guard < maxStage && sc.i < len(sc.stages); guard++ {
		st := &sc.stages[sc.i]
		if st.timeout > 0 && sc.n >= st.timeout {
			sc.goTo(st.retry)
			continue
		}
		if !sc.reached(st) {
			break
		}
		sc.goTo(sc.i + 1)
	}
	for k := range sc.s.tools {
		dst[4*k], dst[4*k+1], dst[4*k+2], dst[4*k+3] = 0, 0, 0, sc.jaw[k]
	}
	if sc.i >= len(sc.stages) {
		return
	}
	st := &sc.stages[sc.i]
	sc.n++
	sc.jaw[st.tool] = st.jaw
	p, phi := sc.target(st)
	sc.steer(dst[4*st.tool:4*st.tool+4], sc.s.tools[st.tool], p, phi, st.jaw)
}

func (sc *script) reached(st *stage) bool {
	if sc.n < st.wait {
		return false
	}
	in := sc.s.tools[st.tool]
	p, phi := sc.target(st)
	if in.tip().Sub(p).Len() > st.tol || math.Abs(wrap(phi-in.phi())) > angTol {
		return false
	}
	return st.until == nil || st.until()
}

// steer is the P-controller: increments proportional to the error, in units
// of the per-step scale, clipped.
func (sc *script) steer(dst []float64, in *instrument, p vec, phi, jaw float64) {
	e := p.Sub(in.tip()).Mul(sc.gain / stepLen)
	if v := sc.speed; v > 0 && e.Len() > v {
		e = e.Mul(v / e.Len())
	}
	dst[0] = clamp(e[0], -1, 1)
	dst[1] = clamp(e[1], -1, 1)
	dst[2] = clamp(sc.gain*wrap(phi-in.phi())/stepRot, -1, 1)
	dst[3] = jaw
}

// add appends a stage.
func (sc *script) add(st stage) { sc.stages = append(sc.stages, st) }

// expertFor wraps a script with sim.Skilled; while hesitating the operator
// holds the tools still but keeps the jaw as the script commands.
func (s *bench) expertFor(sc *script, skill float64, seed uint64) sim.Policy {
	sc.s = s
	return sim.Skilled(sc, skill, seed, func(dst []float64) {
		for k := range s.tools {
			dst[4*k], dst[4*k+1], dst[4*k+2] = 0, 0, 0
		}
	})
}

// fixed returns a stage target function for a constant waypoint.
func fixed(p vec, phi float64) func() (vec, float64) {
	return func() (vec, float64) { return p, phi }
}
