package manip

import (
	"testing"

	"github.com/ByteArena/box2d"
)

// pegOver places the gripper so the peg bottom is dz above the hole mouth,
// offset dx from the hole centre, and pushes straight down for n steps.
func pegPush(task *PegInsert, dx float64, n int) {
	h := task.hole.GetPosition()
	p := task.palm.GetPosition()
	shift := box2d.MakeB2Vec2(h.X+dx-p.X, holeDepth+0.5+pegBelowPalm-p.Y)
	for _, b := range []*box2d.B2Body{task.palm, task.peg} {
		q := b.GetPosition()
		b.SetTransform(box2d.MakeB2Vec2(q.X+shift.X, q.Y+shift.Y), 0)
		b.SetLinearVelocity(box2d.B2Vec2{})
	}
	task.ref = task.palm.GetPosition()
	for range n {
		task.Act([]float64{0, -1}, 1.0/pegHz)
		for range pegPhysicsHz / pegHz {
			task.Substep(1.0 / pegPhysicsHz)
		}
		task.EndPeriod()
	}
}

func TestClearanceIsReal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dx     float64
		seated bool
	}{
		{"centred", 0, true},
		{"within play", 0.02, true},
		{"off by 0.8 mm", 0.08, false},
		{"off by 2 mm", 0.2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := NewPegInsert()
			task.Reset(3)
			pegPush(task, tc.dx, 30)
			if got := task.Success(); got != tc.seated {
				t.Errorf("got seated %v (peg bottom %.3f); want %v", got, task.pegBottom().Y, tc.seated)
			}
		})
	}
}

func TestPegFeelsContact(t *testing.T) {
	task := NewPegInsert()
	task.Reset(3)
	pegPush(task, 0.3, 20) // resting on the hole's edge, pushed down
	f := task.ToolForces(nil)
	// The blocked servo pushes with about k·pegLead (≈ its 3 N limit);
	// the edge pushes back up.
	if len(f) != 2 || f[1] < 0.8*pegForceMax {
		t.Errorf("got contact force %v; want ≥ %.0f upward", f, 0.8*pegForceMax)
	}
	obs := make([]float64, len(pegObs))
	task.Observe(obs)
	if obs[9] != f[1] {
		t.Errorf("got force_z %v in the observation; want %v", obs[9], f[1])
	}
}
