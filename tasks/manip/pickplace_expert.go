package manip

import (
	"math"

	"tandem/sim"
)

// Expert returns the scripted pick-and-place oracle wrapped by sim.Skilled.
func (t *PickPlace) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(&ppExpert{t: t}, skill, seed, func(dst []float64) { sim.HoldAction(t, dst) })
}

// Pick-and-place expert phases, in order.
const (
	ppAbove   = iota // over the block at carry height, jaws opening
	ppDescend        // down to the block
	ppClose          // close until the grasp weld exists
	ppLift           // up to carry height
	ppCarry          // across to the bin
	ppLower          // down into the bin
	ppRelease        // open until released
	ppRetreat        // up and away
)

// ppExpert is a waypoint script with proportional control between
// waypoints, in the manner of SurRoL's oracles. It reads the task's state
// directly (privileged) and starts over whenever the grasp is lost.
type ppExpert struct {
	t     *PickPlace
	phase int
	n     int // steps in the current phase
}

// Reset starts the script from its first phase.
func (e *ppExpert) Reset(uint64) { e.phase, e.n = ppAbove, 0 }

func (e *ppExpert) next(p int) { e.phase, e.n = p, 0 }

// Act writes the next action.
func (e *ppExpert) Act(_, dst []float64) {
	t := e.t
	palm := t.g.palm.GetPosition()
	block := t.block.GetPosition()
	binX := t.bin.GetPosition().X
	grasped := t.g.weld != nil
	if !grasped && e.phase >= ppLift && e.phase <= ppLower {
		e.next(ppAbove)
	}
	e.n++
	var tx, ty, jaw float64
	switch e.phase {
	case ppAbove:
		tx, ty, jaw = block.X, carryY, 1
		if math.Abs(palm.X-tx) < ppAlign && math.Abs(palm.Y-ty) < 1.5 && t.g.width() > 2*jawOpen-0.5 {
			e.next(ppDescend)
		}
	case ppDescend:
		tx, ty, jaw = block.X, palmMinY, 1
		if palm.Y < palmMinY+0.15 {
			e.next(ppClose)
		}
	case ppClose:
		tx, ty, jaw = palm.X, palmMinY, -1
		if grasped {
			e.next(ppLift)
		} else if e.n > ppRetryAfter {
			e.next(ppAbove)
		}
	case ppLift:
		tx, ty, jaw = palm.X, carryY, -1
		if palm.Y > carryY-1 {
			e.next(ppCarry)
		}
	case ppCarry:
		tx, ty, jaw = binX-(block.X-palm.X), carryY, -1
		if math.Abs(palm.X-tx) < ppAlign {
			e.next(ppLower)
		}
	case ppLower:
		// Palm height that puts the block's bottom ppPlaceMargin above the floor.
		ty = binFloor + ppPlaceMargin + blockHalf + (palm.Y - block.Y)
		tx, jaw = binX-(block.X-palm.X), -1
		if palm.Y < ty+0.15 {
			e.next(ppRelease)
		}
	case ppRelease:
		tx, ty, jaw = palm.X, palm.Y, 1
		if !grasped && t.g.width() > 2*jawOpen-0.5 {
			e.next(ppRetreat)
		}
	default: // ppRetreat
		tx, ty, jaw = palm.X, carryY, 1
	}
	dst[0] = clamp1(ppGain * (tx - palm.X) / ppSpeed)
	dst[1] = clamp1(ppGain * (ty - palm.Y) / ppSpeed)
	dst[2] = jaw
}
