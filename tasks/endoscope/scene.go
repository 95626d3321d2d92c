package endoscope

import (
	"fmt"

	"tandem/sim"
)

// Scene draws the walls, the port, the cubes, the endoscope tip (projected
// on the table) and the view frame's centre and axes.
func (t *Track) Scene() *sim.Scene { return t.scene }

func (t *Track) buildScene() *sim.Scene {
	s := &sim.Scene{Bounds: [4]float64{-wallX - 2, port.Y() - 2, wallX + 2, wallY + 2}}
	s.Bodies = append(s.Bodies, "target")
	for i := range distractors {
		s.Bodies = append(s.Bodies, fmt.Sprintf("distractor%02d", i+1))
	}
	s.Bodies = append(s.Bodies, "tip", "view")
	for _, f := range wallFixtures() {
		s.Shapes = append(s.Shapes, rect(-1, f, "#8a7a66", 0, ""))
	}
	s.Shapes = append(s.Shapes,
		sim.Shape{Body: -1, Kind: sim.Circle, Center: [2]float64{port.X(), port.Y()}, Radius: 0.8, Color: "#222", Fill: false, Layer: 4, Label: "port"},
		rect(0, fix{hx: cubeHalf, hy: cubeHalf}, "#d62728", 2, "target"))
	palette := [...]string{"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"}
	for i := range distractors {
		s.Shapes = append(s.Shapes, rect(1+i, fix{hx: cubeHalf, hy: cubeHalf}, palette[i/2], 1, ""))
	}
	tip, view := distractors+1, distractors+2
	s.Shapes = append(s.Shapes,
		sim.Shape{Body: tip, Kind: sim.Polyline, Points: [][2]float64{{-4, 0}, {0, 0}}, Width: 0.6, Color: "#444", Layer: 5, Label: "endoscope"},
		sim.Shape{Body: tip, Kind: sim.Circle, Radius: 0.5, Color: "#444", Fill: true, Layer: 5},
		sim.Shape{Body: view, Kind: sim.Polyline, Points: [][2]float64{{-1.5, 0}, {1.5, 0}}, Width: 0.15, Color: "#0a0", Layer: 6, Label: "view"},
		sim.Shape{Body: view, Kind: sim.Polyline, Points: [][2]float64{{0, -1.5}, {0, 1.5}, {-0.5, 1}, {0, 1.5}, {0.5, 1}}, Width: 0.15, Color: "#0a0", Layer: 6},
	)
	return s
}

func rect(body int, f fix, color string, layer int, label string) sim.Shape {
	return sim.Shape{
		Body: body, Kind: sim.Polygon, Color: color, Fill: true, Layer: layer, Label: label,
		Points: [][2]float64{
			{f.cx - f.hx, f.cy - f.hy}, {f.cx + f.hx, f.cy - f.hy},
			{f.cx + f.hx, f.cy + f.hy}, {f.cx - f.hx, f.cy + f.hy},
		},
	}
}
