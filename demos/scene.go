package demos

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"tandem/sim"
)

// Foxglove scene messages (foxglove.SceneUpdate, @foxglove/schemas), the
// subset tandem draws its 2-D scenes with. The scene lies in the z = 0
// plane of frame "world".

type fxTime struct {
	Sec  uint32 `json:"sec"`
	Nsec uint32 `json:"nsec"`
}

func fxTimeOf(t time.Time) fxTime {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return fxTime{Sec: uint32(ns / 1e9), Nsec: uint32(ns % 1e9)}
}

type fxVec3 struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
}

type fxQuat struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
	W float64 `json:"w"`
}

type fxPose struct {
	Position    fxVec3 `json:"position"`
	Orientation fxQuat `json:"orientation"`
}

type fxColor struct {
	R float64 `json:"r"`
	G float64 `json:"g"`
	B float64 `json:"b"`
	A float64 `json:"a"`
}

type fxCylinder struct {
	Pose        fxPose  `json:"pose"`
	Size        fxVec3  `json:"size"`
	BottomScale float64 `json:"bottom_scale"`
	TopScale    float64 `json:"top_scale"`
	Color       fxColor `json:"color"`
}

type fxLine struct {
	Type           int      `json:"type"` // 0 strip, 1 loop, 2 list
	Pose           fxPose   `json:"pose"`
	Thickness      float64  `json:"thickness"`
	ScaleInvariant bool     `json:"scale_invariant"`
	Points         []fxVec3 `json:"points"`
	Color          fxColor  `json:"color"`
}

type fxTriangles struct {
	Pose   fxPose   `json:"pose"`
	Points []fxVec3 `json:"points"`
	Color  fxColor  `json:"color"`
}

type fxEntity struct {
	Timestamp   fxTime        `json:"timestamp"`
	FrameID     string        `json:"frame_id"`
	ID          string        `json:"id"`
	Lifetime    fxTime        `json:"lifetime"`
	FrameLocked bool          `json:"frame_locked"`
	Cylinders   []fxCylinder  `json:"cylinders"`
	Lines       []fxLine      `json:"lines"`
	Triangles   []fxTriangles `json:"triangles"`
}

type fxDeletion struct {
	Timestamp fxTime `json:"timestamp"`
	Type      int    `json:"type"` // 0 matching id, 1 all
	ID        string `json:"id"`
}

type fxSceneUpdate struct {
	Deletions []fxDeletion `json:"deletions"`
	Entities  []fxEntity   `json:"entities"`
}

var identity = fxQuat{W: 1}

// unitScale converts a task's length unit to metres for the 3-D view;
// pixels are drawn at 1 px = 1 cm.
func unitScale(units string) float64 {
	switch strings.ToLower(units) {
	case "m":
		return 1
	case "mm":
		return 0.001
	}
	return 0.01 // cm, px and anything else
}

// sceneBuilder turns a task's Scene and body poses into SceneUpdates.
type sceneBuilder struct {
	scene *sim.Scene
	scale float64
}

func (b *sceneBuilder) world(p sim.Pose, pt [2]float64) fxVec3 {
	c, s := math.Cos(p.Angle), math.Sin(p.Angle)
	x := p.X + c*pt[0] - s*pt[1]
	y := p.Y + s*pt[0] + c*pt[1]
	return fxVec3{X: x * b.scale, Y: y * b.scale, Z: 0}
}

// entity draws the shapes attached to body (-1 for the static world) at
// pose p.
func (b *sceneBuilder) entity(body int, id string, p sim.Pose, at time.Time) fxEntity {
	e := fxEntity{Timestamp: fxTimeOf(at), FrameID: "world", ID: id,
		Cylinders: []fxCylinder{}, Lines: []fxLine{}, Triangles: []fxTriangles{}}
	for _, sh := range b.scene.Shapes {
		if sh.Body != body {
			continue
		}
		col := parseColor(sh.Color)
		pose := fxPose{Orientation: identity}
		switch sh.Kind {
		case sim.Circle:
			pose.Position = b.world(p, sh.Center)
			d := 2 * sh.Radius * b.scale
			if !sh.Fill {
				col.A *= 0.4
			}
			e.Cylinders = append(e.Cylinders, fxCylinder{Pose: pose, Size: fxVec3{X: d, Y: d, Z: 0.002}, BottomScale: 1, TopScale: 1, Color: col})
		case sim.Polygon:
			pts := make([]fxVec3, len(sh.Points))
			for i, q := range sh.Points {
				pts[i] = b.world(p, q)
			}
			if sh.Fill && len(pts) >= 3 {
				// Box2D polygons are convex: a fan triangulates them.
				tri := make([]fxVec3, 0, 3*(len(pts)-2))
				for i := 1; i+1 < len(pts); i++ {
					tri = append(tri, pts[0], pts[i], pts[i+1])
				}
				e.Triangles = append(e.Triangles, fxTriangles{Pose: pose, Points: tri, Color: col})
				continue
			}
			e.Lines = append(e.Lines, fxLine{Type: 1, Pose: pose, Thickness: max(sh.Width*b.scale, 0.002), Points: pts, Color: col})
		case sim.Polyline:
			pts := make([]fxVec3, len(sh.Points))
			for i, q := range sh.Points {
				pts[i] = b.world(p, q)
			}
			e.Lines = append(e.Lines, fxLine{Type: 0, Pose: pose, Thickness: max(sh.Width*b.scale, 0.002), Points: pts, Color: col})
		}
	}
	return e
}

// reset is the SceneUpdate at an episode start: clear, then the static
// world (kept until the next reset) and the bodies.
func (b *sceneBuilder) reset(poses []sim.Pose, at time.Time) fxSceneUpdate {
	u := b.update(poses, at)
	u.Deletions = []fxDeletion{{Timestamp: fxTimeOf(at), Type: 1}}
	u.Entities = append(u.Entities, b.entity(-1, "static", sim.Pose{}, at))
	return u
}

// update places every body at its pose.
func (b *sceneBuilder) update(poses []sim.Pose, at time.Time) fxSceneUpdate {
	u := fxSceneUpdate{Deletions: []fxDeletion{}, Entities: make([]fxEntity, 0, len(poses)+1)}
	for i, p := range poses {
		name := strconv.Itoa(i)
		if i < len(b.scene.Bodies) {
			name = b.scene.Bodies[i]
		}
		u.Entities = append(u.Entities, b.entity(i, "body/"+name, p, at))
	}
	return u
}

// parseColor reads #rgb, #rrggbb, #rrggbbaa, rgb()/rgba() and a few names;
// anything else is grey.
func parseColor(s string) fxColor {
	s = strings.TrimSpace(strings.ToLower(s))
	if named, ok := colorNames[s]; ok {
		s = named
	}
	hex := func(h string) float64 {
		v, err := strconv.ParseUint(h, 16, 8)
		if err != nil {
			return 0.5
		}
		return float64(v) / 255
	}
	switch {
	case strings.HasPrefix(s, "#") && len(s) == 4:
		return fxColor{R: hex(s[1:2] + s[1:2]), G: hex(s[2:3] + s[2:3]), B: hex(s[3:4] + s[3:4]), A: 1}
	case strings.HasPrefix(s, "#") && (len(s) == 7 || len(s) == 9):
		c := fxColor{R: hex(s[1:3]), G: hex(s[3:5]), B: hex(s[5:7]), A: 1}
		if len(s) == 9 {
			c.A = hex(s[7:9])
		}
		return c
	case strings.HasPrefix(s, "rgb"):
		open, end := strings.IndexByte(s, '('), strings.IndexByte(s, ')')
		if open < 0 || end < open {
			break
		}
		parts := strings.FieldsFunc(s[open+1:end], func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
		if len(parts) < 3 {
			break
		}
		c := fxColor{A: 1}
		vals := []*float64{&c.R, &c.G, &c.B, &c.A}
		for i := 0; i < len(parts) && i < 4; i++ {
			v, err := strconv.ParseFloat(strings.TrimSuffix(parts[i], "%"), 64)
			if err != nil {
				return fxColor{R: 0.5, G: 0.5, B: 0.5, A: 1}
			}
			switch {
			case strings.HasSuffix(parts[i], "%"):
				v /= 100
			case i < 3:
				v /= 255
			}
			*vals[i] = v
		}
		return c
	}
	return fxColor{R: 0.5, G: 0.5, B: 0.5, A: 1}
}

var colorNames = map[string]string{
	"black": "#000000", "white": "#ffffff", "red": "#ff0000", "green": "#008000", "blue": "#0000ff",
	"yellow": "#ffff00", "orange": "#ffa500", "gray": "#808080", "grey": "#808080", "purple": "#800080",
	"pink": "#ffc0cb", "cyan": "#00ffff", "magenta": "#ff00ff", "brown": "#a52a2a",
	"lightgray": "#d3d3d3", "lightgrey": "#d3d3d3", "darkgray": "#a9a9a9", "darkgrey": "#a9a9a9",
	"steelblue": "#4682b4", "slategray": "#708090", "tomato": "#ff6347", "gold": "#ffd700",
	"limegreen": "#32cd32", "crimson": "#dc143c", "salmon": "#fa8072",
}

// Schemas. JSON schema objects are built from small helpers so the
// foxglove ones stay readable; they describe the fields tandem writes.

func num() map[string]any { return map[string]any{"type": "number"} }

func obj(title string, props map[string]any) map[string]any {
	m := map[string]any{"type": "object", "properties": props}
	if title != "" {
		m["title"] = title
	}
	return m
}

func arr(items any) map[string]any { return map[string]any{"type": "array", "items": items} }

func fxSchemaTime(title string) map[string]any {
	return obj(title, map[string]any{"sec": map[string]any{"type": "integer"}, "nsec": map[string]any{"type": "integer"}})
}

func fxSchemaVec3() map[string]any {
	return obj("foxglove.Vector3", map[string]any{"x": num(), "y": num(), "z": num()})
}

func fxSchemaPose() map[string]any {
	return obj("foxglove.Pose", map[string]any{
		"position":    fxSchemaVec3(),
		"orientation": obj("foxglove.Quaternion", map[string]any{"x": num(), "y": num(), "z": num(), "w": num()}),
	})
}

func fxSchemaColor() map[string]any {
	return obj("foxglove.Color", map[string]any{"r": num(), "g": num(), "b": num(), "a": num()})
}

// sceneUpdateSchema is the jsonschema of foxglove.SceneUpdate (subset).
func sceneUpdateSchema() []byte {
	entity := obj("foxglove.SceneEntity", map[string]any{
		"timestamp":    fxSchemaTime("time"),
		"frame_id":     map[string]any{"type": "string"},
		"id":           map[string]any{"type": "string"},
		"lifetime":     fxSchemaTime("duration"),
		"frame_locked": map[string]any{"type": "boolean"},
		"cylinders": arr(obj("foxglove.CylinderPrimitive", map[string]any{
			"pose": fxSchemaPose(), "size": fxSchemaVec3(), "bottom_scale": num(), "top_scale": num(), "color": fxSchemaColor(),
		})),
		"lines": arr(obj("foxglove.LinePrimitive", map[string]any{
			"type": map[string]any{"type": "integer"}, "pose": fxSchemaPose(), "thickness": num(),
			"scale_invariant": map[string]any{"type": "boolean"}, "points": arr(fxSchemaVec3()), "color": fxSchemaColor(),
		})),
		"triangles": arr(obj("foxglove.TriangleListPrimitive", map[string]any{
			"pose": fxSchemaPose(), "points": arr(fxSchemaVec3()), "color": fxSchemaColor(),
		})),
	})
	s := obj("foxglove.SceneUpdate", map[string]any{
		"deletions": arr(obj("foxglove.SceneEntityDeletion", map[string]any{
			"timestamp": fxSchemaTime("time"), "type": map[string]any{"type": "integer"}, "id": map[string]any{"type": "string"},
		})),
		"entities": arr(entity),
	})
	js, _ := json.Marshal(s)
	return js
}
