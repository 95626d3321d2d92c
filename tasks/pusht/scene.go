package pusht

import "tandem/sim"

// Scene body indices, in the order Poses writes them.
const (
	bodyAgent = iota
	bodyBlock
	bodyGoal
	numSceneBodies
)

// Colours follow the reference's pygame colours.
const (
	colorWall  = "lightgray"      // walls: LightGray
	colorBlock = "lightslategray" // T: LightSlateGray
	colorGoal  = "lightgreen"     // goal: LightGreen
	colorAgent = "royalblue"      // agent: RoyalBlue
)

// Draw layers, low first.
const (
	layerGoal = iota
	layerWalls
	layerBlock
	layerAgent
)

func buildScene() sim.Scene {
	s := sim.Scene{
		Bounds: [4]float64{0, 0, fieldSize, fieldSize},
		Bodies: []string{bodyAgent: "agent", bodyBlock: "block", bodyGoal: "goal"},
	}
	// Walls: the reference's segments, drawn at their own width (radius 2).
	corners := [][2]float64{{wallLo, wallLo}, {wallHi, wallLo}, {wallHi, wallHi}, {wallLo, wallHi}, {wallLo, wallLo}}
	s.Shapes = append(s.Shapes, sim.Shape{
		Body: -1, Kind: sim.Polyline, Points: corners, Width: 2 * wallRadius,
		Color: colorWall, Layer: layerWalls, Label: "walls",
	})
	for _, r := range tRects {
		// The goal outline and the block share the T's local vertices.
		s.Shapes = append(s.Shapes,
			sim.Shape{Body: bodyGoal, Kind: sim.Polygon, Points: points(r), Color: colorGoal, Fill: false, Layer: layerGoal, Label: "goal"},
			sim.Shape{Body: bodyBlock, Kind: sim.Polygon, Points: points(r), Color: colorBlock, Fill: true, Layer: layerBlock, Label: "block"},
		)
	}
	s.Shapes = append(s.Shapes, sim.Shape{
		Body: bodyAgent, Kind: sim.Circle, Radius: agentRadius,
		Color: colorAgent, Fill: true, Layer: layerAgent, Label: "agent",
	})
	return s
}

func points(r *[4]vec) [][2]float64 {
	out := make([][2]float64, len(r))
	for i, v := range r {
		out[i] = [2]float64{v.x, v.y}
	}
	return out
}

// Scene describes the field, the walls, the block, the goal outline and the
// agent. Shapes are in each body's frame, in pixels.
func (t *Task) Scene() *sim.Scene { return &t.scene }

// Poses writes the poses of the agent, the block (its T frame's origin and
// angle) and the goal marker into dst and returns dst[:3].
func (t *Task) Poses(dst []sim.Pose) []sim.Pose {
	a := t.w.agentPos()
	b := t.w.blockPose()
	dst = dst[:numSceneBodies]
	dst[bodyAgent] = sim.Pose{X: a.x, Y: a.y}
	dst[bodyBlock] = sim.Pose{X: b.p.x, Y: b.p.y, Angle: b.angle}
	dst[bodyGoal] = sim.Pose{X: goalPose.p.x, Y: goalPose.p.y, Angle: goalPose.angle}
	return dst
}
