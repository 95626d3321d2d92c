package surgical

import (
	"math"
	"testing"

	"tandem/sim"
)

// stepTask applies action for one control period at the learning rate.
func stepTask(task sim.Task, a []float64) {
	spec := task.Spec()
	task.Act(a, 1/spec.ControlHz)
	n := spec.Substeps(0)
	for range n {
		task.Substep(1 / spec.ControlHz / float64(n))
	}
}

// gauzeInJaw resets gauze-retrieve with the open jaw over the pad, ready to
// pinch it.
func gauzeInJaw(t *testing.T, mass float64) (*gauzeRetrieve, *instrument) {
	t.Helper()
	task := newGauzeRetrieve().(*gauzeRetrieve)
	task.Reset(4)
	if mass > 0 {
		setMass(task.gauze, mass)
	}
	in := task.tools[0]
	in.place(worldPoint(task.gauze, vec{0, gauzeHY - 0.02}), 0, jawOpen)
	return task, in
}

var (
	closeJaw = []float64{0, 0, 0, -1}
	openJaw  = []float64{0, 0, 0, 1}
	liftJaw  = []float64{0, 1, 0, -1}
)

func TestGraspAndRelease(t *testing.T) {
	task, in := gauzeInJaw(t, 0)
	stepTask(task, closeJaw)
	if in.grip.held != task.gauze {
		t.Fatalf("after closing on the pad: got held %v; want the gauze", in.grip.held)
	}
	y0 := bodyPos(task.gauze)[1]
	stepTask(task, liftJaw)
	stepTask(task, liftJaw)
	if dy := bodyPos(task.gauze)[1] - y0; math.Abs(dy-2) > 0.05 {
		t.Fatalf("lifting 2 cm with the pad held: pad rose %.3f cm; want 2", dy)
	}
	stepTask(task, closeJaw) // hold still: the tool feels the pad's weight
	f := task.ToolForces(nil)
	if want := -gauzeMass * gravity; math.Abs(f[1]-want) > 0.1*math.Abs(want) || math.Abs(f[0]) > 1 {
		t.Fatalf("holding the pad still: got tool force %.2f; want (0, %.1f) kg·cm/s²", f, want)
	}
	hold := make([]float64, 4)
	sim.HoldAction(task, hold)
	stepTask(task, hold)
	if in.grip.held != task.gauze || hold[3] >= 0 {
		t.Fatalf("hold action %v dropped the pad; want it kept closed", hold)
	}
	stepTask(task, openJaw)
	if in.grip.held != nil {
		t.Fatal("after opening: still holding; want released")
	}
	stepTask(task, openJaw)
	if y := bodyPos(task.gauze)[1]; y > y0+0.1 {
		t.Fatalf("released pad at height %.2f; want it back on the floor (%.2f)", y, y0)
	}
}

func TestNoGraspWithOneFinger(t *testing.T) {
	task := newGauzeRetrieve().(*gauzeRetrieve)
	task.Reset(4)
	in := task.tools[0]
	// Jaw beside the pad's right end: only one finger can reach it.
	in.place(worldPoint(task.gauze, vec{gauzeHX + 0.45, gauzeHY - 0.3}), 0, jawOpen)
	stepTask(task, closeJaw)
	if in.grip.held != nil {
		t.Fatal("closing with one finger on the pad grasped it; want no grasp")
	}
}

func TestGraspBreaksOverForceLimit(t *testing.T) {
	// A 5 kg pad weighs 4905 kg·cm/s², above the 2000 limit: the grasp
	// breaks as soon as it must carry it.
	task, in := gauzeInJaw(t, 5)
	stepTask(task, closeJaw)
	stepTask(task, liftJaw)
	if in.grip.held != nil || in.grip.breaks == 0 {
		t.Fatalf("lifting 5 kg: got held=%v breaks=%d; want the grasp broken", in.grip.held != nil, in.grip.breaks)
	}
	stepTask(task, closeJaw)
	if in.grip.held != nil {
		t.Fatal("grasped again without reopening after a break; want the jaw to reopen first")
	}
	// The light pad holds under the same motion.
	task, in = gauzeInJaw(t, 0)
	stepTask(task, closeJaw)
	stepTask(task, liftJaw)
	if in.grip.held == nil || in.grip.breaks != 0 {
		t.Fatalf("lifting 50 g: got held=%v breaks=%d; want held, no break", in.grip.held != nil, in.grip.breaks)
	}
}

func TestNeedleGraspRule(t *testing.T) {
	task := newNeedlePick().(*needlePick)
	task.Reset(8)
	task.needle.SetTransform(b2(vec{0, 2}), 0) // upright, clear of the pad
	in := task.tools[0]
	for _, tc := range []struct {
		name string
		off  float64 // jaw direction off the arc normal at the pinch, degrees
		want bool
	}{
		{"square", 0, true},
		{"15 degrees off", 15, true},
		{"19 degrees off", -19, true},
		{"25 degrees off", 25, false},
		{"35 degrees off", -35, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, a := range []float64{math.Pi / 2, math.Pi/2 + 30*deg, math.Pi/2 - 30*deg} {
				phi := needleNormal(task.needle, a) + tc.off*deg
				in.place(needleAt(task.needle, a), phi, jawOpen)
				if got := needleAligned(in, task.needle); got != tc.want {
					t.Fatalf("arc angle %.2f, jaw %g° off the normal: got aligned=%v; want %v", a, tc.off, got, tc.want)
				}
			}
		})
	}
}

// TestNeedleGraspSquaresUp closes a tilted jaw on the needle: a grasp, if
// it forms, forms only where the jaw is square to the arc (the needle is
// pushed round until the pinch point's normal meets the jaw).
func TestNeedleGraspSquaresUp(t *testing.T) {
	for _, off := range []float64{10, 35, -35} {
		task := newNeedlePick().(*needlePick)
		task.Reset(8)
		in := task.tools[0]
		phi := needleNormal(task.needle, math.Pi/2) + off*deg
		in.place(needleAt(task.needle, math.Pi/2).Add(dir(phi).Mul(pinchDepth)), phi, jawOpen)
		task.Act(closeJaw, 0.2)
		for range 48 {
			task.Substep(1.0 / 240)
			if in.grip.held != nil {
				break
			}
		}
		if in.grip.held == nil {
			continue
		}
		local := rot(in.tip().Sub(bodyPos(task.needle)), -task.needle.M_sweep.A)
		n := needleNormal(task.needle, math.Atan2(local[1], local[0]))
		if d := math.Abs(wrap(in.phi()-n)) / deg; d > 20 {
			t.Fatalf("jaw %g° off: grasped %.1f° off the arc normal; want within 20°", off, d)
		}
	}
}
