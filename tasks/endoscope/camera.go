package endoscope

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"tandem/sim"
)

// Endoscope geometry, in cm and radians. The table is the plane z = 0 (the
// Box2D world's x, y); the port sits above and behind the workspace, like
// SurRoL's ECM, which looks down at the table at an angle.
var port = mgl64.Vec3{0, -16, 20}

const (
	halfFoV   = 30 * math.Pi / 180 // SurRoL ECM FoV = 60°
	tiltMin   = 10 * math.Pi / 180 // keeps the shaft off vertical, where yaw would stop moving the view
	tiltMax   = 70 * math.Pi / 180
	yawRange  = 60 * math.Pi / 180 // yaw stays within ±60° of straight ahead (+y)
	insertMin = 2.0                // cm of shaft past the port
	insertMax = 16.0
	targetZ   = 1.0 // cm: height of the cubes' centres (2 cm cubes)
)

// ecm is the endoscope's joint state, as the dVRK ECM's four joints: yaw
// (azimuth of the shaft about the vertical through the port), tilt (shaft
// angle from straight down), insertion along the shaft, and roll about it.
// Every pose it describes passes through the port: the remote centre of
// motion is built into the parametrisation.
type ecm struct {
	yaw, tilt, insert, roll float64
}

// axis is the unit shaft (viewing) direction.
func (e *ecm) axis() mgl64.Vec3 {
	st := math.Sin(e.tilt)
	return mgl64.Vec3{st * math.Cos(e.yaw), st * math.Sin(e.yaw), -math.Cos(e.tilt)}
}

// tip is the camera's position: insert cm past the port along the axis.
func (e *ecm) tip() mgl64.Vec3 { return port.Add(e.axis().Mul(e.insert)) }

// frame returns the image's right and up axes and the viewing axis. At roll
// 0 the right axis is horizontal (the image is upright).
func (e *ecm) frame() (right, up, fwd mgl64.Vec3) {
	fwd = e.axis()
	r0 := mgl64.Vec3{math.Sin(e.yaw), -math.Cos(e.yaw), 0} // fwd × ẑ, normalised
	s0 := fwd.Mul(-1).Cross(r0)                            // completes (r0, s0, −fwd) right-handed
	c, s := math.Cos(e.roll), math.Sin(e.roll)
	return r0.Mul(c).Add(s0.Mul(s)), s0.Mul(c).Sub(r0.Mul(s)), fwd
}

// project maps world point x to normalised image coordinates (−1 … 1 across
// the field of view, v up) and reports whether it is in view. Points behind
// or level with the camera report (2, 2), out of view.
func (e *ecm) project(x mgl64.Vec3) (u, v float64, in bool) {
	r, s, f := e.frame()
	rel := x.Sub(e.tip())
	z := rel.Dot(f)
	if z < 0.1 {
		return 2, 2, false
	}
	k := 1 / (z * math.Tan(halfFoV))
	u, v = rel.Dot(r)*k, rel.Dot(s)*k
	return u, v, math.Abs(u) <= 1 && math.Abs(v) <= 1
}

// pan turns the view by image-frame angles (dx right, dy up, radians) about
// the port: the image-frame motion is rotated by the roll into yaw and
// tilt, and yaw is scaled by 1/sin(tilt) so that dx is the angle the view
// actually sweeps. Joint limits clamp the result.
func (e *ecm) pan(dx, dy float64) {
	c, s := math.Cos(e.roll), math.Sin(e.roll)
	along, up := dx*c-dy*s, dx*s+dy*c
	e.yaw -= along / math.Max(math.Sin(e.tilt), math.Sin(tiltMin))
	e.tilt += up
	e.clamp()
}

func (e *ecm) clamp() {
	e.yaw = math.Max(math.Pi/2-yawRange, math.Min(math.Pi/2+yawRange, e.yaw))
	e.tilt = math.Max(tiltMin, math.Min(tiltMax, e.tilt))
	e.insert = math.Max(insertMin, math.Min(insertMax, e.insert))
	e.roll = math.Remainder(e.roll, 2*math.Pi)
}

// aim points the shaft at x.
func (e *ecm) aim(x mgl64.Vec3) {
	d := x.Sub(port).Normalize()
	e.yaw = math.Atan2(d.Y(), d.X())
	e.tilt = math.Acos(-d.Z())
	e.clamp()
}

// viewPose is the view frame on the table: where the viewing axis meets the
// plane, turned so its x axis follows the image's right axis.
func (e *ecm) viewPose() sim.Pose {
	r, _, f := e.frame()
	t := e.tip()
	k := -t.Z() / f.Z() // f.Z() < 0: tilt ≤ tiltMax < 90°
	return sim.Pose{X: t.X() + k*f.X(), Y: t.Y() + k*f.Y(), Angle: math.Atan2(r.Y(), r.X())}
}
