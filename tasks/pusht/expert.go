package pusht

import "math"

// The expert is a greedy pushing planner that reads the task's true state.
// Every control step it:
//
//  1. measures the pose error of the block's centre of gravity and angle
//     against the goal, as a cost C = |Δc|² + ρ²·Δθ²;
//  2. for each candidate contact on the T's outline (points every few
//     pixels on the eight edges, away from the inner corners where the
//     agent would touch two faces), predicts the quasi-static motion a
//     frictionless push there produces — along the face normal, with the
//     rotation its moment arm about the centre of gravity gives — and the
//     push length s* that minimises C along it, which reduces C by g²/h;
//  3. finds the path to the contact's stand-off point (just off the face)
//     through a visibility graph around the T, and scores the contact by
//     C's reduction over the path length plus the push plus an overhead;
//  4. heads for the best contact's stand-off point (via the path), and once
//     there pushes: the agent's target goes s* past the face.
//
// Contacts whose push would drive the T into a wall, or whose stand-off is
// outside the field, are skipped; a contact that was pushed without the T
// moving is set aside for a while.
type expert struct {
	t *Task

	lastEdge  int // edge of the contact pushed on the last step, -1 if none
	stuck     int // consecutive pushing steps with no block motion
	tabu      [numEdges]int
	lastPose  pose
	lastAgent vec

	opts [maxContactsT]option // scratch for plan
}

// option is one candidate push evaluated by plan, in world coordinates.
type option struct {
	p, n, q vec     // contact point, outward normal, stand-off point
	dc      vec     // centre motion per px of push
	dth     float64 // rotation per px of push
	s       float64 // push length
	reduce  float64 // cost reduction of the push
	bonus   float64 // keepBonus on the edge being pushed, else 1
	bound   float64 // score upper bound
	edge    int
	seen    bool
}

// Planner constants (tandem's own tuning).
const (
	rho2       = 2000.0 // px²: weight of the angle error, ≈ the T's polar radius of gyration squared
	gap        = 4.0    // px between the agent and the face at the stand-off point
	clearance  = 4.0    // px kept between the agent and the T while travelling
	sampleStep = 5.0    // px between candidate contacts along an edge
	maxPush    = 20.0   // px: longest push commanded in one step
	overhead   = 40.0   // px-equivalent cost of starting any push
	arrive     = 6.0    // px: within this of the stand-off point the push starts
	keepBonus  = 1.5    // score factor for staying on the edge being pushed
	tabuSteps  = 8
)

// numEdges is the T outline's edge count.
const numEdges = len(tOutline)

// contact is a candidate contact point on the T's outline, in its frame.
type contact struct {
	p, n vec // point and outward unit normal
	edge int
}

// maxContactsT bounds the candidate list.
const maxContactsT = 128

var candidates, numCandidates = buildCandidates()

// buildCandidates samples points along the outline's edges, keeping away
// from convex ends by 1 px and from concave corners by the agent's radius
// (there the agent would touch the neighbouring face too).
func buildCandidates() ([maxContactsT]contact, int) {
	var out [maxContactsT]contact
	k := 0
	for i := range numEdges {
		a, b := tOutline[i], tOutline[(i+1)%numEdges]
		e := b.sub(a)
		l := e.norm()
		u := e.scale(1 / l)
		n := vec{u.y, -u.x}
		startPad, endPad := 1.0, 1.0
		if concave(i) {
			startPad = agentRadius + 2
		}
		if concave((i + 1) % numEdges) {
			endPad = agentRadius + 2
		}
		span := l - startPad - endPad
		if span < 0 {
			continue
		}
		m := int(span/sampleStep) + 1
		for j := range m {
			s := startPad + span*float64(j)/float64(max(m-1, 1))
			if m == 1 {
				s = startPad + span/2
			}
			out[k] = contact{p: a.add(u.scale(s)), n: n, edge: i}
			k++
		}
	}
	return out, k
}

// concave reports whether outline vertex i is an inner corner.
func concave(i int) bool {
	p, c, n := tOutline[(i+numEdges-1)%numEdges], tOutline[i], tOutline[(i+1)%numEdges]
	return c.sub(p).cross(n.sub(c)) < 0
}

func newExpert(t *Task) *expert {
	e := &expert{t: t}
	e.Reset(0)
	return e
}

// Reset forgets the previous episode.
func (e *expert) Reset(uint64) {
	e.lastEdge, e.stuck = -1, 0
	e.tabu = [numEdges]int{}
	e.lastPose, e.lastAgent = e.t.w.blockPose(), e.t.w.agentPos()
}

// wrapPi maps a to (−π, π].
func wrapPi(a float64) float64 {
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a <= 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}

// Act writes the agent's next target (normalised) into dst. obs is not
// read: the expert uses the task's exact state.
func (e *expert) Act(_, dst []float64) {
	target := e.plan()
	dst[0] = min(max(toNorm(target.x), -1), 1)
	dst[1] = min(max(toNorm(target.y), -1), 1)
}

// plan returns the agent's target in pixels.
func (e *expert) plan() vec {
	w := e.t.w
	bp := w.blockPose()
	c := w.blockCenter()
	a := w.agentPos()
	s, co := math.Sincos(bp.angle)

	// Notice pushes that moved nothing although the agent moved (a wall or
	// a corner holds the T).
	moved := bp.p.sub(e.lastPose.p).norm() + 60*math.Abs(bp.angle-e.lastPose.angle)
	tried := a.sub(e.lastAgent).norm() > 1
	e.lastPose, e.lastAgent = bp, a
	for i := range e.tabu {
		e.tabu[i] = max(e.tabu[i]-1, 0)
	}
	if e.lastEdge >= 0 && moved < 0.2 && tried {
		e.stuck++
		if e.stuck >= 3 {
			e.tabu[e.lastEdge] = tabuSteps
			e.stuck = 0
		}
	} else {
		e.stuck = 0
	}

	goalC := goalPose.apply(vec{0, blockCoGY})
	ec := goalC.sub(c)
	et := wrapPi(goalPose.angle - bp.angle)

	var rects [2][4]vec
	for k, r := range tRects {
		for i, v := range r {
			rects[k][i] = bp.apply(v)
		}
	}
	g := graph{rects: &rects, clear: agentRadius + clearance, last: agentRadius + gap - 1}
	g.node[0], g.ok[0] = a, true
	g.start = min(g.clear, shapeDist(a, a, &rects)-0.5)
	ring := ringNodes(agentRadius + clearance + 2)
	for i, v := range ring {
		p := bp.apply(v)
		g.node[i+1] = p
		g.ok[i+1] = inField(p)
	}
	g.search()

	// First pass: the push each candidate offers and an upper bound on its
	// score (the path is at least the straight line to the stand-off).
	n := 0
	for k := range numCandidates {
		cand := &candidates[k]
		if e.tabu[cand.edge] > 0 {
			continue
		}
		p := cand.p.rotate(co, s).add(bp.p)
		nrm := cand.n.rotate(co, s)
		q := p.add(nrm.scale(agentRadius + gap))
		if !inField(q) {
			continue
		}
		// Quasi-static frictionless push along d = −n at p: per unit of
		// agent travel the impulse is j, the centre moves j·d/m and the
		// angle j·τ/I.
		d := nrm.scale(-1)
		tau := p.sub(c).cross(d)
		j := 1 / (1/blockMass + tau*tau/blockInertia)
		dc := d.scale(j / blockMass)
		dth := j * tau / blockInertia
		gain := ec.dot(dc) + rho2*et*dth
		h := dc.dot(dc) + rho2*dth*dth
		if gain <= 0 || h <= 0 {
			continue
		}
		sStar := min(gain/h, 4*maxPush)
		reduce := gain * gain / h
		if sStar*h < gain { // capped: the reduction of the capped push
			reduce = 2*gain*sStar - h*sStar*sStar
		}
		bonus := 1.0
		if cand.edge == e.lastEdge {
			bonus = keepBonus
		}
		e.opts[n] = option{
			p: p, n: nrm, q: q, dc: dc, dth: dth, s: sStar, reduce: reduce, bonus: bonus, edge: cand.edge,
			bound: bonus * reduce / (a.sub(q).norm() + sStar + overhead),
		}
		n++
	}

	// Second pass, best bound first: route to the stand-off point until no
	// remaining bound can beat the best score found.
	bestScore, bestTarget, bestEdge := 0.0, a, -1
	var bestPush vec
	for {
		k := -1
		for i := range n {
			if !e.opts[i].seen && (k < 0 || e.opts[i].bound > e.opts[k].bound) {
				k = i
			}
		}
		if k < 0 || e.opts[k].bound <= bestScore {
			break
		}
		o := &e.opts[k]
		o.seen = true
		if hitsWall(c, bp.angle, o.dc, o.dth, o.s) {
			continue
		}
		length, first, ok := g.route(o.q)
		if !ok {
			continue
		}
		score := o.bonus * o.reduce / (length + o.s + overhead)
		if score > bestScore {
			bestScore, bestEdge = score, o.edge
			pushing := a.sub(o.q).norm() < arrive || (o.edge == e.lastEdge && shapeDist(a, a, &rects) < agentRadius+gap+1)
			if pushing {
				bestTarget = o.p.add(o.n.scale(agentRadius - min(o.s, maxPush)))
				bestPush = o.n
			} else {
				bestTarget = first
				bestPush = vec{}
			}
		}
	}
	if bestPush == (vec{}) {
		e.lastEdge = -1 // travelling: no push to judge
	} else {
		e.lastEdge = bestEdge
	}
	return bestTarget
}

// inField reports whether the agent can be commanded to p.
func inField(p vec) bool {
	return p.x >= 0 && p.x <= fieldSize && p.y >= 0 && p.y <= fieldSize
}

// hitsWall reports whether moving the T's centre by dc·s and its angle by
// dth·s would push a hull vertex further past a wall's inner face than it
// already is (by more than half a pixel).
func hitsWall(c vec, angle float64, dc vec, dth, s float64) bool {
	before := wallOverlap(pose{c, angle})
	after := wallOverlap(pose{c.add(dc.scale(s)), angle + dth*s})
	return after > max(before, 0)+0.5
}

// wallOverlap is how far the T (posed by its centre of gravity) reaches
// past the walls' inner faces, less a 1 px margin; negative when clear.
func wallOverlap(q pose) float64 {
	lo, hi := wallLo+wallRadius+1, wallHi-wallRadius-1
	worst := math.Inf(-1)
	for _, v := range tHull {
		p := q.apply(v.sub(vec{0, blockCoGY}))
		worst = max(worst, lo-p.x, p.x-hi, lo-p.y, p.y-hi)
	}
	return worst
}
