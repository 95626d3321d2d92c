package teleop

import (
	"math"
	"reflect"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"tandem/sim"
)

func TestMotionAxes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		actions []string
		want    []Axes
	}{
		{"single tool increments", []string{"dx", "dy", "dyaw", "jaw"}, []Axes{{"", 0, 1, 2, false}}},
		{"Push-T absolute target", []string{"target_x", "target_y"}, []Axes{{"target", 0, 1, -1, true}}},
		{"surgical two arms", []string{"dx1", "dy1", "dphi1", "jaw1", "dx2", "dy2", "dphi2", "jaw2"},
			[]Axes{{"1", 0, 1, 2, false}, {"2", 4, 5, 6, false}}},
		{"prefixed arms", []string{"psm1_dx", "psm1_dy", "psm1_jaw", "psm2_dx", "psm2_dy", "psm2_jaw"},
			[]Axes{{"psm1", 0, 1, -1, false}, {"psm2", 3, 4, -1, false}}},
		{"side view x-z", []string{"vx", "vz", "jaw"}, []Axes{{"", 0, 1, -1, false}}},
		{"case and separators", []string{"Tool.VX", "Tool.VY", "Tool.Omega"}, []Axes{{"tool", 0, 1, 2, false}}},
		{"yaw only (endoscope roll)", []string{"roll", "dyaw"}, []Axes{{"", -1, -1, 1, false}}},
		{"x without y is not motion", []string{"dx", "jaw"}, nil},
		{"nothing recognised", []string{"grip", "depth"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MotionAxes(sim.Spec{ActionNames: tc.actions})
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v; want %+v", got, tc.want)
			}
		})
	}
}

func TestMapMotion(t *testing.T) {
	one := []Axes{{"", 0, 1, 2, false}}
	for _, tc := range []struct {
		name  string
		axes  []Axes
		cam   sim.Pose
		scale float64
		in    []float64
		want  []float64
	}{
		{"world frame, unit scale", one, sim.Pose{}, 1, []float64{0.3, -0.2, 0.5, -1}, []float64{0.3, -0.2, 0.5, -1}},
		{"scale 0.2 on translation only", one, sim.Pose{}, 0.2, []float64{1, -0.5, 0.5, 1}, []float64{0.2, -0.1, 0.5, 1}},
		{"camera turned 90°: screen right is world up", one, sim.Pose{X: 5, Y: 5, Angle: math.Pi / 2}, 1, []float64{1, 0, 0, 0}, []float64{0, 1, 0, 0}},
		{"camera turned 180°", one, sim.Pose{Angle: math.Pi}, 0.5, []float64{0.4, 0.2, 0, 0}, []float64{-0.2, -0.1, 0, 0}},
		{"diagonal clamps to bounds", one, sim.Pose{Angle: math.Pi / 4}, 1, []float64{1, 1, 0, 0}, []float64{0, 1, 0, 0}},
		{"no axes: unchanged", nil, sim.Pose{Angle: 1}, 0.5, []float64{0.3, 0.3, 0.3, 0.3}, []float64{0.3, 0.3, 0.3, 0.3}},
		{"two tools", []Axes{{"a", 0, 1, -1, false}, {"b", 2, 3, -1, false}}, sim.Pose{Angle: -math.Pi / 2}, 1, []float64{1, 0, 0, 1}, []float64{0, -1, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float64, len(tc.in))
			MapMotion(got, tc.in, tc.axes, tc.cam, tc.scale)
			if !equal(got, tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}

func TestClutched(t *testing.T) {
	for _, tc := range []struct {
		name            string
		axes            []Axes
		cmd, hold, want []float64
	}{
		{"motion frozen, jaw kept", []Axes{{"", 0, 1, 2, false}}, []float64{1, 1, 1, -1}, []float64{0, 0, 0, 0}, []float64{0, 0, 0, -1}},
		{"absolute hold values", []Axes{{"", 0, 1, -1, true}}, []float64{0.9, 0.9, 1}, []float64{0.2, 0.3, 0}, []float64{0.2, 0.3, 1}},
		{"no axes: all hold", nil, []float64{1, 1}, []float64{0, 0}, []float64{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float64, len(tc.cmd))
			Clutched(got, tc.cmd, tc.hold, tc.axes)
			if !equal(got, tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}

func TestCameraTransforms(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cam      sim.Pose
		in, want mgl64.Vec2
	}{
		{"identity", sim.Pose{}, mgl64.Vec2{1, 2}, mgl64.Vec2{1, 2}},
		{"translation", sim.Pose{X: 3, Y: -1}, mgl64.Vec2{1, 2}, mgl64.Vec2{4, 1}},
		{"rotation then translation", sim.Pose{X: 3, Y: -1, Angle: math.Pi / 2}, mgl64.Vec2{1, 0}, mgl64.Vec2{3, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CameraToWorld(tc.cam, tc.in)
			if !got.ApproxEqualThreshold(tc.want, 1e-12) {
				t.Errorf("CameraToWorld got %v; want %v", got, tc.want)
			}
			if back := WorldToCamera(tc.cam, got); !back.ApproxEqualThreshold(tc.in, 1e-12) {
				t.Errorf("WorldToCamera(CameraToWorld(p)) got %v; want %v", back, tc.in)
			}
		})
	}
}

func TestAnchorReReferences(t *testing.T) {
	cam := sim.Pose{Angle: math.Pi / 2}
	var r Anchor
	tool := mgl64.Vec2{10, 10}
	steps := []struct {
		name   string
		device mgl64.Vec2
		clutch bool
		want   mgl64.Vec2
	}{
		{"takeover anchors: no jump", mgl64.Vec2{50, 50}, false, mgl64.Vec2{10, 10}},
		{"device right 2 → tool up 1 (scale 0.5, camera 90°)", mgl64.Vec2{52, 50}, false, mgl64.Vec2{10, 11}},
		{"clutched: device re-centres, tool holds", mgl64.Vec2{0, 0}, true, mgl64.Vec2{10, 11}},
		{"released: re-anchored where it is", mgl64.Vec2{0, 0}, false, mgl64.Vec2{10, 11}},
		{"moves on from the new anchor", mgl64.Vec2{0, -2}, false, mgl64.Vec2{11, 11}},
	}
	for _, s := range steps {
		var target mgl64.Vec2
		r, target = r.Follow(s.device, tool, s.clutch, cam, 0.5)
		if !target.ApproxEqualThreshold(s.want, 1e-12) {
			t.Fatalf("%s: target %v; want %v", s.name, target, s.want)
		}
		tool = target // the tool reaches its target
	}
}

func TestMapMotionDoesNotAllocate(t *testing.T) {
	axes := []Axes{{"", 0, 1, 2, false}}
	in, out := []float64{0.1, 0.2, 0.3, 0.4}, make([]float64, 4)
	if n := testing.AllocsPerRun(100, func() { MapMotion(out, in, axes, sim.Pose{Angle: 0.3}, 0.5) }); n != 0 {
		t.Errorf("MapMotion allocates %v times; want 0", n)
	}
}
