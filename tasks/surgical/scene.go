package surgical

import (
	"fmt"
	"math"

	"tandem/sim"
)

// Scene colours.
const (
	colShaft  = "#8a8f98"
	colJaw    = "#d0d4da"
	colPort   = "#e0a030"
	colFloor  = "#7a4a44"
	colNeedle = "#c8ccd4"
	colGoal   = "#3cb371"
	colObject = "#4f86c6"
	colTissue = "#d77a7a"
	colTarget = "#f2d14b"
)

// sceneBuilder assembles a sim.Scene: bodies are appended in the same order
// as the task's pose sources.
type sceneBuilder struct{ sc sim.Scene }

func newScene(bounds [4]float64) *sceneBuilder {
	return &sceneBuilder{sc: sim.Scene{Bounds: bounds}}
}

// body adds a named body and returns its index.
func (b *sceneBuilder) body(name string) int {
	b.sc.Bodies = append(b.sc.Bodies, name)
	return len(b.sc.Bodies) - 1
}

func (b *sceneBuilder) shape(s sim.Shape) { b.sc.Shapes = append(b.sc.Shapes, s) }

func (b *sceneBuilder) box(body int, hx, hy float64, c vec, a float64, color string, layer int) {
	b.shape(sim.Shape{Body: body, Kind: sim.Polygon, Points: boxPoints(hx, hy, c, a), Color: color, Fill: true, Layer: layer})
}

func (b *sceneBuilder) circle(body int, r float64, c vec, color string, fill bool, layer int, label string) {
	b.shape(sim.Shape{Body: body, Kind: sim.Circle, Center: [2]float64{c[0], c[1]}, Radius: r, Color: color, Fill: fill, Layer: layer, Label: label})
}

// floor draws the surface below y = 0.
func (b *sceneBuilder) floor() {
	x0, x1 := b.sc.Bounds[0], b.sc.Bounds[2]
	b.shape(sim.Shape{Body: -1, Kind: sim.Polygon, Points: [][2]float64{{x0, b.sc.Bounds[1]}, {x1, b.sc.Bounds[1]}, {x1, 0}, {x0, 0}}, Color: colFloor, Fill: true, Layer: 0})
}

// tools draws the instruments: a port marker (world), and per instrument a
// shaft polyline and two jaw fingers (bodies, in trackTools order).
func (b *sceneBuilder) tools(ports []vec) {
	for k, p := range ports {
		suf := ""
		if len(ports) > 1 {
			suf = fmt.Sprint(k + 1)
		}
		b.circle(-1, 0.45, p, colPort, false, 5, "port"+suf)
		sh := b.body("shaft" + suf)
		b.shape(sim.Shape{Body: sh, Kind: sim.Polyline, Points: [][2]float64{{0, 0}, {0, shaftLen}}, Width: shaftWidth, Color: colShaft, Layer: 4})
		for _, f := range []string{"jawA", "jawB"} {
			j := b.body(f + suf)
			b.box(j, fingerWidth/2, fingerLen/2, vec{0, -fingerLen / 2}, 0, colJaw, 4)
		}
	}
}

// goal adds a goal marker body (a ring).
func (b *sceneBuilder) goal(name string, r float64) {
	g := b.body(name)
	b.circle(g, r, vec{}, colGoal, false, 6, name)
}

// arc draws a polyline arc of radius r from angle a0 to a1 (body frame,
// centred at the origin).
func (b *sceneBuilder) arc(body int, r, a0, a1, width float64, color string, layer int) {
	const n = 16
	pts := make([][2]float64, n+1)
	for i := range pts {
		a := a0 + (a1-a0)*float64(i)/n
		pts[i] = [2]float64{r * math.Cos(a), r * math.Sin(a)}
	}
	b.shape(sim.Shape{Body: body, Kind: sim.Polyline, Points: pts, Width: width, Color: color, Layer: layer})
}

func (b *sceneBuilder) done() *sim.Scene { s := b.sc; return &s }
