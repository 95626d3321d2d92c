package pusht

import "math"

// vec is a point or direction in the task's pixel frame.
type vec struct{ x, y float64 }

func (a vec) add(b vec) vec           { return vec{a.x + b.x, a.y + b.y} }
func (a vec) sub(b vec) vec           { return vec{a.x - b.x, a.y - b.y} }
func (a vec) scale(s float64) vec     { return vec{a.x * s, a.y * s} }
func (a vec) dot(b vec) float64       { return a.x*b.x + a.y*b.y }
func (a vec) cross(b vec) float64     { return a.x*b.y - a.y*b.x }
func (a vec) norm() float64           { return math.Hypot(a.x, a.y) }
func (a vec) rotate(c, s float64) vec { return vec{c*a.x - s*a.y, s*a.x + c*a.y} }

// pose is a planar rigid transform of the T's frame (origin and angle).
type pose struct {
	p     vec
	angle float64
}

// apply maps a point from the T's frame to the world.
func (q pose) apply(v vec) vec {
	s, c := math.Sincos(q.angle)
	return v.rotate(c, s).add(q.p)
}

// applyDir rotates a direction from the T's frame to the world.
func (q pose) applyDir(v vec) vec {
	s, c := math.Sincos(q.angle)
	return v.rotate(c, s)
}

// The T in its own frame, in pixels, as Push-T defines it (add_tee with
// scale 30, length 4): a 120×30 bar on y ∈ [0, 30] and a 30×90 stem on
// y ∈ [30, 120], both centred on x = 0. The frame's origin (the middle of the
// bar's long edge) is the block position that observations report. Vertices
// are counter-clockwise.
var (
	barVerts  = [4]vec{{-60, 0}, {60, 0}, {60, 30}, {-60, 30}}
	stemVerts = [4]vec{{-15, 30}, {15, 30}, {15, 120}, {-15, 120}}
	tRects    = [2]*[4]vec{&barVerts, &stemVerts}
)

// tArea is the T's area in px²: 120·30 + 30·90.
const tArea = 120*30 + 30*90

// The T's outline as one counter-clockwise polygon (8 edges); the expert
// picks contact points on it.
var tOutline = [8]vec{
	{-60, 0}, {60, 0}, {60, 30}, {15, 30}, {15, 120}, {-15, 120}, {-15, 30}, {-60, 30},
}

// maxClip bounds the vertices of a convex quadrilateral clipped by another:
// each of the 4 clip edges adds at most one vertex.
const maxClip = 8

// clipArea returns the area of the intersection of two convex
// counter-clockwise quadrilaterals (Sutherland–Hodgman clipping of subj by
// each edge of clip, then the shoelace formula). It does not allocate.
func clipArea(subj, clip *[4]vec) float64 {
	var bufA, bufB [maxClip]vec
	in := bufA[:0]
	in = append(in, subj[:]...)
	out := bufB[:0]
	for i := range 4 {
		a, b := clip[i], clip[(i+1)%4]
		edge := b.sub(a)
		out = out[:0]
		n := len(in)
		for j := range n {
			p, q := in[j], in[(j+1)%n]
			sp, sq := edge.cross(p.sub(a)), edge.cross(q.sub(a))
			if sp >= 0 {
				out = append(out, p)
			}
			if (sp >= 0) != (sq >= 0) {
				t := sp / (sp - sq)
				out = append(out, p.add(q.sub(p).scale(t)))
			}
		}
		if len(out) < 3 {
			return 0
		}
		in, out = out, in
	}
	area := 0.0
	n := len(in)
	for j := range n {
		area += in[j].cross(in[(j+1)%n])
	}
	return area / 2
}

// coverage is the fraction of the goal T covered by the block T:
// area(block ∩ goal) / area(goal), computed exactly as the sum of the
// pairwise intersections of their rectangles (the bar and stem of one T
// overlap only along an edge, so the pieces never double count). This is the
// quantity Push-T computes with shapely.
func coverage(block, goal pose) float64 {
	var b, g [2][4]vec
	for k, r := range tRects {
		for i, v := range r {
			b[k][i] = block.apply(v)
			g[k][i] = goal.apply(v)
		}
	}
	sum := 0.0
	for i := range b {
		for j := range g {
			sum += clipArea(&b[i], &g[j])
		}
	}
	return sum / tArea
}
