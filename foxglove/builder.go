package foxglove

import (
	"math"
	"slices"
	"strconv"
	"time"

	"tandem/sim"
)

// StaticID is the ID of the entity holding the world's static shapes
// (sim.Shape.Body == -1); body i's entity is "body/" + Scene.Bodies[i].
const StaticID = "world"

// Drawing constants.
const (
	outlinePx   = 1.5  // screen pixels: outlines of polygons, rings of unfilled circles
	ringSegs    = 32   // vertices of an unfilled circle's ring
	layerGapRel = 1e-3 // layer height as a fraction of the scene's larger side
)

// Builder turns one task scene and its body poses into SceneUpdates. It
// precomputes every primitive in its body's frame once; each call then only
// writes poses and timestamps, so Step and Full do not allocate.
//
// The SceneUpdate a call returns, and every slice in it, belong to the
// Builder and are overwritten by the next call: encode it (AppendJSON,
// json.Marshal) before calling again. A Builder is used by one goroutine at
// a time.
type Builder struct {
	scale  float64
	ents   []Entity // per body, then the static world last
	offs   []offsets
	out    []Entity
	dels   []Deletion
	update SceneUpdate
}

// offset is a primitive's origin in its body's frame, in metres: the
// primitive's pose is the body pose applied to it.
type offset struct{ x, y, z float64 }

// offsets are one entity's primitive origins, parallel to its Cylinders,
// Lines and Triangles.
type offsets struct{ cyl, line, tri []offset }

// NewBuilder prepares the drawing of scene, whose lengths are in units
// (sim.Spec.Units; see UnitScale). Shapes attached to a body the scene does
// not name, circles without a positive radius and polygons or polylines
// with fewer than two points are left out. A nil scene draws nothing.
func NewBuilder(scene *sim.Scene, units string) *Builder {
	if scene == nil {
		scene = &sim.Scene{}
	}
	nb := len(scene.Bodies)
	b := &Builder{
		scale: UnitScale(units),
		ents:  make([]Entity, nb+1),
		offs:  make([]offsets, nb+1),
		out:   make([]Entity, 0, nb+1),
		dels:  make([]Deletion, 1),
	}
	for i := range b.ents {
		id := StaticID
		if i < nb {
			id = "body/" + scene.Bodies[i]
			if scene.Bodies[i] == "" {
				id = "body/" + strconv.Itoa(i)
			}
		}
		b.ents[i] = Entity{FrameID: FrameID, ID: id, Metadata: []KeyValue{},
			Cylinders: []Cylinder{}, Lines: []Line{}, Triangles: []Triangles{}}
	}
	gap := layerGap(scene, b.scale)
	ranks := layerRanks(scene.Shapes)
	for i := range scene.Shapes {
		sh := &scene.Shapes[i]
		if sh.Body < -1 || sh.Body >= nb {
			continue
		}
		ei := sh.Body
		if ei < 0 {
			ei = nb
		}
		b.addShape(ei, sh, float64(ranks[sh.Layer])*gap, gap)
	}
	for i := range b.ents {
		b.place(i, sim.Pose{})
	}
	return b
}

// addShape appends sh's primitives to entity ei at height z.
func (b *Builder) addShape(ei int, sh *sim.Shape, z, gap float64) {
	e, o, scale := &b.ents[ei], &b.offs[ei], b.scale
	col, _ := ParseColor(sh.Color)
	line := func(typ int, pts []Vector3, col Color, off offset) {
		l := Line{Type: typ, Thickness: outlinePx, ScaleInvariant: true, Points: pts, Color: col,
			Colors: []Color{}, Indices: []uint32{}}
		if sh.Width > 0 && sh.Kind != sim.Circle {
			l.Thickness, l.ScaleInvariant = sh.Width*scale, false
		}
		e.Lines = append(e.Lines, l)
		o.line = append(o.line, off)
	}
	local := func(src [][2]float64) []Vector3 {
		out := make([]Vector3, len(src))
		for i, p := range src {
			out[i] = Vector3{X: p[0] * scale, Y: p[1] * scale}
		}
		return out
	}
	switch sh.Kind {
	case sim.Circle:
		if !(sh.Radius > 0) {
			return
		}
		r := sh.Radius * scale
		off := offset{sh.Center[0] * scale, sh.Center[1] * scale, z}
		if sh.Fill {
			e.Cylinders = append(e.Cylinders, Cylinder{Size: Vector3{X: 2 * r, Y: 2 * r, Z: gap / 2},
				BottomScale: 1, TopScale: 1, Color: col})
			o.cyl = append(o.cyl, off)
			return
		}
		ring := make([]Vector3, ringSegs)
		for i := range ring {
			s, c := math.Sincos(2 * math.Pi * float64(i) / ringSegs)
			ring[i] = Vector3{X: r * c, Y: r * s}
		}
		line(LineLoop, ring, col, off)
	case sim.Polygon:
		if len(sh.Points) < 2 {
			return
		}
		p := local(sh.Points)
		off := offset{0, 0, z}
		if sh.Fill && len(p) >= 3 {
			// tandem's polygons are convex (Box2D's are): a fan from
			// the first vertex triangulates them.
			tri := make([]Vector3, 0, 3*(len(p)-2))
			for i := 1; i+1 < len(p); i++ {
				tri = append(tri, p[0], p[i], p[i+1])
			}
			e.Triangles = append(e.Triangles, Triangles{Points: tri, Color: col, Colors: []Color{}, Indices: []uint32{}})
			o.tri = append(o.tri, off)
		}
		outline := col
		outline.A = 1
		line(LineLoop, p, outline, off)
	case sim.Polyline:
		if len(sh.Points) < 2 {
			return
		}
		line(LineStrip, local(sh.Points), col, offset{0, 0, z})
	}
}

// place writes entity i's primitive poses for body pose p (task units).
func (b *Builder) place(i int, p sim.Pose) {
	e, o := &b.ents[i], &b.offs[i]
	px, py := p.X*b.scale, p.Y*b.scale
	s, c := math.Sincos(p.Angle)
	q := ZRotation(p.Angle)
	at := func(f offset) Pose {
		return Pose{Position: Vector3{X: px + c*f.x - s*f.y, Y: py + s*f.x + c*f.y, Z: f.z}, Orientation: q}
	}
	for k := range e.Cylinders {
		e.Cylinders[k].Pose = at(o.cyl[k])
	}
	for k := range e.Lines {
		e.Lines[k].Pose = at(o.line[k])
	}
	for k := range e.Triangles {
		e.Triangles[k].Pose = at(o.tri[k])
	}
}

// ZRotation is the quaternion of a counter-clockwise rotation by angle
// radians about +z.
func ZRotation(angle float64) Quaternion {
	s, c := math.Sincos(angle / 2)
	return Quaternion{Z: s, W: c}
}

// Step is the update for one step: every body with a pose in poses (one
// per Scene body, task units) is replaced at its new pose. The static world
// is left as the last Full drew it.
func (b *Builder) Step(poses []sim.Pose, at time.Time) *SceneUpdate {
	return b.build(poses, at, false)
}

// Full is the update that starts a view: it deletes every entity, then
// draws the static world and every body. Send it at an episode reset and
// as the first message to a new subscriber.
func (b *Builder) Full(poses []sim.Pose, at time.Time) *SceneUpdate {
	return b.build(poses, at, true)
}

func (b *Builder) build(poses []sim.Pose, at time.Time, full bool) *SceneUpdate {
	ts := TimeOf(at)
	n := min(len(poses), len(b.ents)-1)
	b.out = b.out[:0]
	for i := range n {
		b.place(i, poses[i])
		b.ents[i].Timestamp = ts
		b.out = append(b.out, b.ents[i])
	}
	b.update.Deletions = b.dels[:0]
	if full {
		st := len(b.ents) - 1
		b.ents[st].Timestamp = ts
		b.out = append(b.out, b.ents[st])
		b.dels[0] = Deletion{Timestamp: ts, Type: DeleteAll}
		b.update.Deletions = b.dels
	}
	b.update.Entities = b.out
	return &b.update
}

// layerGap is the height between adjacent drawing layers: a thousandth of
// the scene's larger side, so coplanar shapes do not flicker in a 3-D view
// (1 mm when the scene has no bounds).
func layerGap(sc *sim.Scene, scale float64) float64 {
	w := math.Abs(sc.Bounds[2]-sc.Bounds[0]) * scale
	h := math.Abs(sc.Bounds[3]-sc.Bounds[1]) * scale
	if g := layerGapRel * max(w, h); g > 0 && !math.IsInf(g, 0) {
		return g
	}
	return 1e-3
}

// layerRanks maps each layer used by shapes to its rank among them (lowest
// layer 0), so heights stay small whatever numbers the task picked.
func layerRanks(shapes []sim.Shape) map[int]int {
	var ls []int
	for _, sh := range shapes {
		ls = append(ls, sh.Layer)
	}
	slices.Sort(ls)
	ls = slices.Compact(ls)
	ranks := make(map[int]int, len(ls))
	for i, l := range ls {
		ranks[l] = i
	}
	return ranks
}
