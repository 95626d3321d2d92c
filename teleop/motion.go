package teleop

import (
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"tandem/sim"
)

// Axes locates one tool's planar motion channels in an action vector: the
// indices of its x and y translation and its yaw, -1 where absent. Tool is
// what tells tools apart in the names ("" for a single tool, "psm1" for
// "psm1_dx", "2" for "dx2"). Absolute is set when the channels are
// positions (bare names such as "x" or "target_x", as in Push-T) rather
// than velocities or increments ("vx", "dx", "dphi").
type Axes struct {
	Tool      string
	X, Y, Yaw int
	Absolute  bool
}

// Base names recognised as motion channels, after the last '_', '.', '/'
// or ':' of an action name and without a trailing tool number,
// case-insensitive. A side-view task's z is its second planar axis when it
// has no y.
var (
	xNames   = []string{"x", "dx", "vx"}
	yNames   = []string{"y", "dy", "vy"}
	zNames   = []string{"z", "dz", "vz"}
	yawNames = []string{"yaw", "dyaw", "theta", "dtheta", "phi", "dphi", "angle", "dangle", "rot", "drot", "wz", "omega"}
	absNames = []string{"x", "y", "z", "yaw", "theta", "phi", "angle", "rot"}
)

// MotionAxes finds the motion channels of spec's actions, one Axes per tool
// in order of first appearance. A tool needs both planar axes, or a yaw;
// other channels (jaw, gripper) are never scaled, rotated or integrated.
func MotionAxes(spec sim.Spec) []Axes {
	type found struct {
		Axes
		z int
	}
	var out []found
	index := func(tool string) *found {
		for i := range out {
			if out[i].Tool == tool {
				return &out[i]
			}
		}
		out = append(out, found{Axes{Tool: tool, X: -1, Y: -1, Yaw: -1}, -1})
		return &out[len(out)-1]
	}
	for i, name := range spec.ActionNames {
		tool, base := splitActionName(name)
		switch {
		case has(xNames, base):
			f := index(tool)
			f.X, f.Absolute = i, has(absNames, base)
		case has(yNames, base):
			index(tool).Y = i
		case has(zNames, base):
			index(tool).z = i
		case has(yawNames, base):
			f := index(tool)
			f.Yaw = i
			if f.X < 0 {
				f.Absolute = has(absNames, base)
			}
		}
	}
	var kept []Axes
	for _, f := range out {
		a := f.Axes
		if a.Y < 0 {
			a.Y = f.z
		}
		if a.X < 0 || a.Y < 0 {
			a.X, a.Y = -1, -1
		}
		if a.X >= 0 || a.Yaw >= 0 {
			kept = append(kept, a)
		}
	}
	return kept
}

// gripNames are the base names of jaw and gripper actions: levels where a
// negative value closes.
var gripNames = []string{"jaw", "gripper", "grip", "claw"}

// GripChannels returns the indices of spec's jaw and gripper actions (any
// tool): the channels the Grip button closes while held.
func GripChannels(spec sim.Spec) []int {
	var out []int
	for i, name := range spec.ActionNames {
		if _, base := splitActionName(name); has(gripNames, base) {
			out = append(out, i)
		}
	}
	return out
}

// splitActionName splits "psm1_dx" into ("psm1", "dx") and "dx2" into
// ("2", "dx"), lower-cased.
func splitActionName(name string) (tool, base string) {
	name = strings.ToLower(name)
	base = name
	if k := strings.LastIndexAny(name, "_./:"); k >= 0 {
		tool, base = name[:k], name[k+1:]
	}
	if t := strings.TrimRight(base, "0123456789"); t != base && t != "" {
		tool, base = tool+base[len(t):], t
	}
	return tool, base
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MapMotion turns an operator command src into a tool command dst (same
// length): each tool's (x, y) is rotated from the camera frame into the
// world frame (cam is the camera's pose; the zero Pose is the world frame)
// and multiplied by scale. Yaw is a rotation about the viewing axis, the
// same in both frames, and is not scaled: like surgical consoles, tandem
// scales translation only so that the wrist keeps its orientation 1:1.
// Other channels pass unchanged. The result is clamped to [-1, 1]. dst may
// alias src. It does not allocate.
func MapMotion(dst, src []float64, axes []Axes, cam sim.Pose, scale float64) {
	copy(dst, src)
	rot := mgl64.Rotate2D(cam.Angle)
	for _, ax := range axes {
		if ax.X < 0 {
			continue
		}
		v := rot.Mul2x1(mgl64.Vec2{src[ax.X], src[ax.Y]}).Mul(scale)
		dst[ax.X], dst[ax.Y] = v[0], v[1]
	}
	for i, v := range dst {
		dst[i] = min(max(v, -1), 1)
	}
}

// Clutched writes the command executed while the clutch is held: every
// motion channel takes the hold action's value (the tool freezes) and the
// other channels keep the operator's command, so a jaw holding a needle
// stays closed while the operator re-centres. Without recognised motion
// axes the whole hold action is used.
func Clutched(dst, cmd, hold []float64, axes []Axes) {
	if len(axes) == 0 {
		copy(dst, hold)
		return
	}
	copy(dst, cmd)
	for _, ax := range axes {
		for _, i := range [3]int{ax.X, ax.Y, ax.Yaw} {
			if i >= 0 {
				dst[i] = hold[i]
			}
		}
	}
}

// CameraToWorld maps a point given in the camera frame to the world frame
// with the homogeneous transform T(cam.X, cam.Y)·R(cam.Angle).
func CameraToWorld(cam sim.Pose, p mgl64.Vec2) mgl64.Vec2 {
	return cameraMatrix(cam).Mul3x1(p.Vec3(1)).Vec2()
}

// WorldToCamera is the inverse of CameraToWorld.
func WorldToCamera(cam sim.Pose, p mgl64.Vec2) mgl64.Vec2 {
	inv := mgl64.HomogRotate2D(-cam.Angle).Mul3(mgl64.Translate2D(-cam.X, -cam.Y))
	return inv.Mul3x1(p.Vec3(1)).Vec2()
}

func cameraMatrix(cam sim.Pose) mgl64.Mat3 {
	return mgl64.Translate2D(cam.X, cam.Y).Mul3(mgl64.HomogRotate2D(cam.Angle))
}

// Anchor re-references an absolute input device (a stylus or hand-tracker
// position, in the camera frame) to the tool, so that taking over or
// releasing the clutch never makes the tool jump: the tool moves by the
// device's displacement since the anchor, scaled and rotated into the
// world frame. The zero Anchor is unset and anchors at the next sample.
type Anchor struct {
	Device mgl64.Vec2 // device position when anchored (camera frame)
	Tool   mgl64.Vec2 // tool position when anchored (world frame)
	Set    bool
}

// Follow returns the updated anchor and the tool target for device position
// p, given the tool's current position. While clutch is held the target is
// the tool itself and the anchor is cleared, so the device can be
// re-centred freely; the first sample after release re-anchors.
func (r Anchor) Follow(p, tool mgl64.Vec2, clutch bool, cam sim.Pose, scale float64) (Anchor, mgl64.Vec2) {
	if clutch {
		return Anchor{}, tool
	}
	if !r.Set {
		r = Anchor{Device: p, Tool: tool, Set: true}
	}
	d := mgl64.Rotate2D(cam.Angle).Mul2x1(p.Sub(r.Device)).Mul(scale)
	return r, r.Tool.Add(d)
}
