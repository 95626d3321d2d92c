package pusht

import "math"

// Geometry and path search for the expert. Everything works on fixed-size
// arrays so that planning does not allocate.

// pointSegDist2 is the squared distance from p to the segment [a, b].
func pointSegDist2(p, a, b vec) float64 {
	ab := b.sub(a)
	l2 := ab.dot(ab)
	t := 0.0
	if l2 > 0 {
		t = min(max(p.sub(a).dot(ab)/l2, 0), 1)
	}
	d := p.sub(a.add(ab.scale(t)))
	return d.dot(d)
}

// segsCross reports whether segments [a, b] and [c, d] properly intersect.
func segsCross(a, b, c, d vec) bool {
	d1 := b.sub(a).cross(c.sub(a))
	d2 := b.sub(a).cross(d.sub(a))
	d3 := d.sub(c).cross(a.sub(c))
	d4 := d.sub(c).cross(b.sub(c))
	return (d1 > 0) != (d2 > 0) && (d3 > 0) != (d4 > 0)
}

// insideConvex reports whether p is inside the counter-clockwise polygon.
func insideConvex(p vec, poly *[4]vec) bool {
	for i := range 4 {
		if poly[(i+1)%4].sub(poly[i]).cross(p.sub(poly[i])) < 0 {
			return false
		}
	}
	return true
}

// segRectDist2 is the squared distance between segment [a, b] and a convex
// quadrilateral (0 when they meet), or any value below limit2 as soon as
// it is known to be below it.
func segRectDist2(a, b vec, poly *[4]vec, limit2 float64) float64 {
	if insideConvex(a, poly) || insideConvex(b, poly) {
		return 0
	}
	d := math.Inf(1)
	for i := range 4 {
		c, e := poly[i], poly[(i+1)%4]
		if segsCross(a, b, c, e) {
			return 0
		}
		d = min(d, pointSegDist2(c, a, b), pointSegDist2(a, c, e), pointSegDist2(b, c, e))
		if d < limit2 {
			return d
		}
	}
	return d
}

// shapeDist is the distance from segment [a, b] to the T (two rectangles in
// world coordinates).
func shapeDist(a, b vec, rects *[2][4]vec) float64 {
	return math.Sqrt(min(segRectDist2(a, b, &rects[0], 0), segRectDist2(a, b, &rects[1], 0)))
}

// clearOf reports whether segment [a, b] stays at least c from the T.
func clearOf(a, b vec, rects *[2][4]vec, c float64) bool {
	c2 := c * c
	return segRectDist2(a, b, &rects[0], c2) >= c2 && segRectDist2(a, b, &rects[1], c2) >= c2
}

// The T's convex hull in its frame, counter-clockwise; the path graph's
// nodes sit just outside it.
var tHull = [6]vec{{-60, 0}, {60, 0}, {60, 30}, {15, 120}, {-15, 120}, {-60, 30}}

// numRing is the number of ring nodes: one off each hull vertex and one off
// each hull edge's midpoint.
const numRing = 2 * len(tHull)

// ringNodes returns points at distance off outside the T's convex hull in
// the T's frame: past each vertex along its bisector (so that both adjacent
// edges are off away) and past each edge's midpoint.
func ringNodes(off float64) [numRing]vec {
	var out [numRing]vec
	n := len(tHull)
	normal := func(i int) vec { // outward normal of edge i → i+1
		e := tHull[(i+1)%n].sub(tHull[i])
		return vec{e.y, -e.x}.scale(1 / e.norm())
	}
	for i := range n {
		n1, n2 := normal((i+n-1)%n), normal(i)
		s := n1.add(n2)
		out[2*i] = tHull[i].add(s.scale(2 * off / s.dot(s)))
		mid := tHull[i].add(tHull[(i+1)%n]).scale(0.5)
		out[2*i+1] = mid.add(n2.scale(off))
	}
	return out
}

// graph is a visibility graph around the T: node 0 is the agent, nodes
// 1..numRing the ring. Dijkstra from the agent fills dist and prev.
type graph struct {
	node  [numRing + 1]vec
	ok    [numRing + 1]bool // node usable (inside the field, clear of the T)
	dist  [numRing + 1]float64
	prev  [numRing + 1]int
	rects *[2][4]vec
	clear float64 // clearance kept from the T by the agent's centre
	start float64 // clearance for segments leaving the agent (it may be touching)
	last  float64 // clearance for the last leg, which ends at a stand-off point
}

// visible reports whether the agent can move along [a, b] keeping
// clearance c from the T.
func (g *graph) visible(a, b vec, c float64) bool {
	return clearOf(a, b, g.rects, c)
}

// search runs Dijkstra from node 0.
func (g *graph) search() {
	var done [numRing + 1]bool
	for i := range g.dist {
		g.dist[i] = math.Inf(1)
		g.prev[i] = -1
	}
	g.dist[0] = 0
	for {
		u := -1
		for i := range g.node {
			if g.ok[i] && !done[i] && !math.IsInf(g.dist[i], 1) && (u < 0 || g.dist[i] < g.dist[u]) {
				u = i
			}
		}
		if u < 0 {
			return
		}
		done[u] = true
		c := g.clear
		if u == 0 {
			c = g.start
		}
		for v := 1; v < len(g.node); v++ {
			if !g.ok[v] || done[v] {
				continue
			}
			d := g.dist[u] + g.node[u].sub(g.node[v]).norm()
			if d < g.dist[v] && g.visible(g.node[u], g.node[v], c) {
				g.dist[v], g.prev[v] = d, u
			}
		}
	}
}

// route returns the shortest path length from the agent to q and the first
// point to head for, or ok false when q cannot be reached.
func (g *graph) route(q vec) (length float64, first vec, ok bool) {
	best, via := math.Inf(1), -1
	if g.visible(g.node[0], q, min(g.start, g.last)) {
		best, via = g.node[0].sub(q).norm(), 0
	}
	for i := 1; i < len(g.node); i++ {
		if !g.ok[i] || math.IsInf(g.dist[i], 1) {
			continue
		}
		d := g.dist[i] + g.node[i].sub(q).norm()
		if d < best && g.visible(g.node[i], q, g.last) {
			best, via = d, i
		}
	}
	if via < 0 {
		return 0, vec{}, false
	}
	if via == 0 {
		return best, q, true
	}
	for g.prev[via] != 0 {
		via = g.prev[via]
	}
	return best, g.node[via], true
}
