package manip

import (
	"testing"

	"github.com/ByteArena/box2d"
)

// runFor steps pick-place with a fixed action for n control steps.
func runFor(task *PickPlace, a []float64, n int) {
	for range n {
		task.Act(a, 1.0/ppHz)
		for range ppPhysicsHz / ppHz {
			task.Substep(1.0 / ppPhysicsHz)
		}
	}
}

// overBlock puts the open gripper around the block, fingertips just above
// the table.
func overBlock(t *testing.T) *PickPlace {
	t.Helper()
	task := NewPickPlace()
	task.Reset(11)
	b := task.block.GetPosition()
	d := box2d.MakeB2Vec2(b.X-task.g.palm.GetPosition().X, palmMinY-task.g.palm.GetPosition().Y)
	for _, body := range []*box2d.B2Body{task.g.palm, task.g.jaws[0], task.g.jaws[1]} {
		p := body.GetPosition()
		body.SetTransform(box2d.MakeB2Vec2(p.X+d.X, p.Y+d.Y), 0)
	}
	runFor(task, []float64{0, 0, 1}, 2)
	if task.Grasped() {
		t.Fatal("grasped with the jaw opening")
	}
	return task
}

func TestGraspWeldsAndLifts(t *testing.T) {
	task := overBlock(t)
	runFor(task, []float64{0, 0, -1}, 10)
	if !task.Grasped() {
		t.Fatal("got no weld after closing on the block; want one")
	}
	y0 := task.block.GetPosition().Y
	runFor(task, []float64{0, 1, -1}, 10)
	if got := task.block.GetPosition().Y - y0; got < 5 {
		t.Errorf("got block lifted %.2f cm; want ≥ 5", got)
	}
	runFor(task, []float64{0, 0, 1}, 1)
	if task.Grasped() {
		t.Fatal("weld kept with the jaw opening; want released")
	}
	y1 := task.block.GetPosition().Y
	runFor(task, []float64{0, 0, 1}, 10)
	if got := task.block.GetPosition().Y; got > y1-3 {
		t.Errorf("got released block at y %.2f from %.2f; want it fallen", got, y1)
	}
}

func TestClosingOnAirMakesNoGrasp(t *testing.T) {
	task := NewPickPlace()
	task.Reset(11)
	runFor(task, []float64{0, 0, -1}, 20)
	if task.Grasped() {
		t.Error("got a weld with nothing between the jaws; want none")
	}
	if w := task.g.width(); w > 2*jawClosed+0.05 {
		t.Errorf("got jaw width %.2f after closing; want ≈ %.1f", w, 2*jawClosed)
	}
}

func TestHoldKeepsGrasp(t *testing.T) {
	task := overBlock(t)
	runFor(task, []float64{0, 0, -1}, 10)
	runFor(task, []float64{0, 1, 0}, 10) // jaw action 0 holds the jaws
	if !task.Grasped() || task.block.GetPosition().Y < 5 {
		t.Errorf("got grasped %v, block y %.2f under a hold jaw action; want grasped and lifted", task.Grasped(), task.block.GetPosition().Y)
	}
}

func TestExcessiveForceBreaksGrasp(t *testing.T) {
	task := overBlock(t)
	runFor(task, []float64{0, 0, -1}, 10)
	runFor(task, []float64{0, 1, -1}, 6)
	if !task.Grasped() {
		t.Fatal("no grasp to break")
	}
	// A pull of 3× the break limit on the block.
	task.Act([]float64{0, 0, -1}, 1.0/ppHz)
	for range 3 {
		task.block.ApplyForceToCenter(box2d.MakeB2Vec2(0, -3*weldBreak), true)
		task.Substep(1.0 / ppPhysicsHz)
	}
	if task.Grasped() || !task.g.broke {
		t.Errorf("got grasped %v, broke %v under 3× the limit; want the weld broken", task.Grasped(), task.g.broke)
	}
}

func TestPickPlaceSuccessNeedsRelease(t *testing.T) {
	task := NewPickPlace()
	task.Reset(2)
	bin := task.bin.GetPosition()
	task.block.SetTransform(box2d.MakeB2Vec2(bin.X, binFloor+blockHalf), 0)
	runFor(task, []float64{0, 0, 0}, 2)
	if !task.Success() {
		t.Fatalf("got no success with the block in the bin and the gripper away (site %v, block %v)", task.g.site(), task.block.GetPosition())
	}
	// Gripper right at the block: not away.
	p := task.g.palm.GetPosition()
	d := box2d.MakeB2Vec2(bin.X-p.X, binFloor+blockHalf+siteOffset+1-p.Y)
	for _, body := range []*box2d.B2Body{task.g.palm, task.g.jaws[0], task.g.jaws[1]} {
		q := body.GetPosition()
		body.SetTransform(box2d.MakeB2Vec2(q.X+d.X, q.Y+d.Y), 0)
	}
	if task.Success() {
		t.Error("got success with the gripper 1 cm from the block; want none (robosuite: > 4.24 cm)")
	}
}
