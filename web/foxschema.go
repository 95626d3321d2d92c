package web

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"tandem/sim"
)

// JSON schemas of the Foxglove channels. foxglove.SceneUpdate follows the
// field names of Foxglove's published schema (SceneUpdate, SceneEntity,
// SpherePrimitive, CubePrimitive, LinePrimitive); only the fields tandem
// fills are required.
var (
	foxTimeSchema = obj(map[string]any{"sec": num("integer"), "nsec": num("integer")})
	foxVec3       = obj(map[string]any{"x": num("number"), "y": num("number"), "z": num("number")})
	foxQuat       = obj(map[string]any{"x": num("number"), "y": num("number"), "z": num("number"), "w": num("number")})
	foxPose       = obj(map[string]any{"position": foxVec3, "orientation": foxQuat})
	foxColor      = obj(map[string]any{"r": num("number"), "g": num("number"), "b": num("number"), "a": num("number")})

	sceneUpdateSchema = mustJSON(map[string]any{
		"title": "foxglove.SceneUpdate", "type": "object",
		"properties": map[string]any{
			"deletions": arr(obj(map[string]any{"timestamp": foxTimeSchema, "type": num("integer"), "id": num("string")})),
			"entities": arr(obj(map[string]any{
				"timestamp": foxTimeSchema, "frame_id": num("string"), "id": num("string"), "lifetime": foxTimeSchema,
				"frame_locked": num("boolean"),
				"metadata":     arr(obj(map[string]any{"key": num("string"), "value": num("string")})),
				"spheres":      arr(obj(map[string]any{"pose": foxPose, "size": foxVec3, "color": foxColor})),
				"cubes":        arr(obj(map[string]any{"pose": foxPose, "size": foxVec3, "color": foxColor})),
				"lines": arr(obj(map[string]any{
					"type": num("integer"), "pose": foxPose, "thickness": num("number"), "scale_invariant": num("boolean"),
					"points": arr(foxVec3), "color": foxColor, "colors": arr(foxColor), "indices": arr(num("integer")),
				})),
				"arrows": arr(obj(nil)), "cylinders": arr(obj(nil)), "triangles": arr(obj(nil)), "texts": arr(obj(nil)), "models": arr(obj(nil)),
			})),
		},
	})
	eventsSchema = mustJSON(map[string]any{"title": "tandem.Events", "type": "object", "properties": map[string]any{
		"episode": num("integer"), "t": num("integer"), "events": arr(num("string")),
	}})
)

func stateSchema(spec *sim.Spec) string {
	obs := map[string]any{}
	for _, n := range spec.ObsNames {
		obs[n] = num("number")
	}
	return mustJSON(map[string]any{"title": "tandem.State", "type": "object", "properties": map[string]any{
		"episode": num("integer"), "t": num("integer"), "kind": num("string"), "source": num("string"),
		"operator": num("string"), "policy_version": num("string"), "reward": num("number"), "return": num("number"),
		"success": num("boolean"), "done": num("boolean"), "interventions": num("integer"), "help": num("boolean"),
		"obs": obj(obs),
	}})
}

func actionSchema(spec *sim.Spec) string {
	act := map[string]any{}
	for _, n := range spec.ActionNames {
		act[n] = num("number")
	}
	return mustJSON(map[string]any{"title": "tandem.Action", "type": "object", "properties": map[string]any{
		"episode": num("integer"), "t": num("integer"), "source": num("string"),
		"action": obj(act), "policy_action": obj(act),
	}})
}

func obj(props map[string]any) map[string]any {
	if props == nil {
		return map[string]any{"type": "object"}
	}
	return map[string]any{"type": "object", "properties": props}
}
func arr(items any) map[string]any { return map[string]any{"type": "array", "items": items} }
func num(t string) map[string]any  { return map[string]any{"type": t} }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // static schema values
	}
	return string(b)
}

// Foxglove message payloads.
type (
	foxTime struct{ Sec, Nsec int64 }
	foxV3   struct{ X, Y, Z float64 }
	foxQ    struct{ X, Y, Z, W float64 }
	foxP    struct {
		Position    foxV3
		Orientation foxQ
	}
	foxC     struct{ R, G, B, A float64 }
	foxShape struct {
		Pose  foxP  `json:"pose"`
		Size  foxV3 `json:"size"`
		Color foxC  `json:"color"`
	}
	foxLine struct {
		Type           int     `json:"type"` // 0 line strip, 1 line loop
		Pose           foxP    `json:"pose"`
		Thickness      float64 `json:"thickness"`
		ScaleInvariant bool    `json:"scale_invariant"`
		Points         []foxV3 `json:"points"`
		Color          foxC    `json:"color"`
		Colors         []foxC  `json:"colors"`
		Indices        []int   `json:"indices"`
	}
	foxEntity struct {
		Timestamp   foxTime    `json:"timestamp"`
		FrameID     string     `json:"frame_id"`
		ID          string     `json:"id"`
		Lifetime    foxTime    `json:"lifetime"`
		FrameLocked bool       `json:"frame_locked"`
		Metadata    []any      `json:"metadata"`
		Spheres     []foxShape `json:"spheres"`
		Cubes       []foxShape `json:"cubes"`
		Lines       []foxLine  `json:"lines"`
		Arrows      []any      `json:"arrows"`
		Cylinders   []any      `json:"cylinders"`
		Triangles   []any      `json:"triangles"`
		Texts       []any      `json:"texts"`
		Models      []any      `json:"models"`
	}
	foxScene struct {
		Deletions []any       `json:"deletions"`
		Entities  []foxEntity `json:"entities"`
	}
)

func (t foxTime) MarshalJSON() ([]byte, error) {
	return []byte(`{"sec":` + strconv.FormatInt(t.Sec, 10) + `,"nsec":` + strconv.FormatInt(t.Nsec, 10) + `}`), nil
}
func (v foxV3) MarshalJSON() ([]byte, error) {
	b := appendFloat([]byte(`{"x":`), v.X)
	b = appendFloat(append(b, `,"y":`...), v.Y)
	b = appendFloat(append(b, `,"z":`...), v.Z)
	return append(b, '}'), nil
}
func (q foxQ) MarshalJSON() ([]byte, error) {
	b := appendFloat([]byte(`{"x":`), q.X)
	b = appendFloat(append(b, `,"y":`...), q.Y)
	b = appendFloat(append(b, `,"z":`...), q.Z)
	b = appendFloat(append(b, `,"w":`...), q.W)
	return append(b, '}'), nil
}
func (p foxP) MarshalJSON() ([]byte, error) {
	pos, _ := p.Position.MarshalJSON()
	ori, _ := p.Orientation.MarshalJSON()
	return []byte(`{"position":` + string(pos) + `,"orientation":` + string(ori) + `}`), nil
}
func (c foxC) MarshalJSON() ([]byte, error) {
	b := appendFloat([]byte(`{"r":`), c.R)
	b = appendFloat(append(b, `,"g":`...), c.G)
	b = appendFloat(append(b, `,"b":`...), c.B)
	b = appendFloat(append(b, `,"a":`...), c.A)
	return append(b, '}'), nil
}

// zRot is the quaternion of a rotation by a radians about +z.
func zRot(a float64) foxQ { return foxQ{Z: math.Sin(a / 2), W: math.Cos(a / 2)} }

// transform maps a point in a body frame to the world.
func transform(p sim.Pose, x, y float64) (float64, float64) {
	s, c := math.Sincos(p.Angle)
	return p.X + c*x - s*y, p.Y + s*x + c*y
}

// sceneUpdate turns a scene and body poses into a foxglove.SceneUpdate:
// one entity per body (and "world" for static shapes) in frame "world",
// z = 0. Circles become spheres, polygons line loops, polylines line
// strips.
func sceneUpdate(sc *sim.Scene, poses []sim.Pose, ts foxTime) foxScene {
	ents := make([]foxEntity, len(sc.Bodies)+1)
	for i := range ents {
		id := "world"
		if i > 0 {
			id = sc.Bodies[i-1]
		}
		ents[i] = foxEntity{Timestamp: ts, FrameID: "world", ID: id, Metadata: []any{}, Spheres: []foxShape{}, Cubes: []foxShape{},
			Lines: []foxLine{}, Arrows: []any{}, Cylinders: []any{}, Triangles: []any{}, Texts: []any{}, Models: []any{}}
	}
	for _, sh := range sc.Shapes {
		pose := sim.Pose{}
		e := &ents[0]
		if sh.Body >= 0 {
			if sh.Body >= len(poses) {
				continue
			}
			pose, e = poses[sh.Body], &ents[sh.Body+1]
		}
		col := cssColor(sh.Color)
		switch sh.Kind {
		case sim.Circle:
			x, y := transform(pose, sh.Center[0], sh.Center[1])
			d := 2 * sh.Radius
			e.Spheres = append(e.Spheres, foxShape{Pose: foxP{Position: foxV3{X: x, Y: y}, Orientation: zRot(pose.Angle)}, Size: foxV3{X: d, Y: d, Z: d}, Color: col})
		case sim.Polygon, sim.Polyline:
			l := foxLine{Pose: foxP{Orientation: foxQ{W: 1}}, Thickness: max(sh.Width, 1), Color: col, Colors: []foxC{}, Indices: []int{}}
			if sh.Kind == sim.Polygon {
				l.Type = 1
			}
			for _, pt := range sh.Points {
				x, y := transform(pose, pt[0], pt[1])
				l.Points = append(l.Points, foxV3{X: x, Y: y})
			}
			e.Lines = append(e.Lines, l)
		}
	}
	return foxScene{Deletions: []any{}, Entities: ents}
}

// cssColor parses #rgb, #rrggbb and #rrggbbaa; anything else is grey.
func cssColor(s string) foxC {
	h, ok := strings.CutPrefix(strings.TrimSpace(s), "#")
	grey := foxC{R: 0.6, G: 0.6, B: 0.6, A: 1}
	if !ok {
		return grey
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 && len(h) != 8 {
		return grey
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return grey
	}
	if len(h) == 6 {
		v = v<<8 | 0xff
	}
	return foxC{R: float64(v>>24&0xff) / 255, G: float64(v>>16&0xff) / 255, B: float64(v>>8&0xff) / 255, A: float64(v&0xff) / 255}
}
