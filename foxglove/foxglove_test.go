package foxglove

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"tandem/sim"
)

// tinyScene: a cart (filled box, filled wheel) in cm, a goal ring and a
// wall polyline on the static world.
func tinyScene() *sim.Scene {
	return &sim.Scene{
		Bounds: [4]float64{-100, -100, 100, 100},
		Bodies: []string{"cart", "goal"},
		Shapes: []sim.Shape{
			{Body: 0, Kind: sim.Polygon, Points: [][2]float64{{-10, -5}, {10, -5}, {10, 5}, {-10, 5}}, Color: "#ff0000", Fill: true, Layer: 2},
			{Body: 0, Kind: sim.Circle, Center: [2]float64{10, 0}, Radius: 3, Color: "blue", Fill: true, Layer: 3},
			{Body: 1, Kind: sim.Circle, Radius: 5, Color: "#0f0", Layer: 1},
			{Body: -1, Kind: sim.Polyline, Points: [][2]float64{{-100, -100}, {100, -100}}, Width: 2, Color: "gray", Layer: 0},
			{Body: 7, Kind: sim.Circle, Radius: 1, Color: "red", Fill: true}, // no such body: left out
		},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestSchemaIsObjectSchema(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal([]byte(SceneUpdateSchema()), &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if s["type"] != "object" || s["title"] != SchemaName {
		t.Fatalf("got type %v title %v; want object %s", s["type"], s["title"], SchemaName)
	}
	props, _ := s["properties"].(map[string]any)
	for _, k := range []string{"deletions", "entities"} {
		if props[k] == nil {
			t.Errorf("schema has no property %q", k)
		}
	}
	ent := props["entities"].(map[string]any)["items"].(map[string]any)["properties"].(map[string]any)
	for _, k := range []string{"timestamp", "frame_id", "id", "lifetime", "frame_locked", "metadata",
		"arrows", "cubes", "spheres", "cylinders", "lines", "triangles", "texts", "models"} {
		if ent[k] == nil {
			t.Errorf("entity schema has no property %q", k)
		}
	}
}

func TestBuilderFullAndStep(t *testing.T) {
	b := NewBuilder(tinyScene(), "cm")
	at := time.Unix(1700000000, 250)
	poses := []sim.Pose{{X: 50, Y: 20, Angle: math.Pi / 2}, {X: -30, Y: 0}}
	u := b.Full(poses, at)
	if len(u.Deletions) != 1 || u.Deletions[0].Type != DeleteAll {
		t.Fatalf("full deletions %+v; want one delete-all", u.Deletions)
	}
	var ids []string
	for _, e := range u.Entities {
		ids = append(ids, e.ID)
		if e.FrameID != "world" {
			t.Errorf("entity %s frame %q; want world", e.ID, e.FrameID)
		}
		if e.Timestamp != (Time{Sec: 1700000000, Nsec: 250}) {
			t.Errorf("entity %s timestamp %+v; want 1700000000 s 250 ns", e.ID, e.Timestamp)
		}
	}
	if want := []string{"body/cart", "body/goal", "world"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("got ids %v; want %v", ids, want)
	}
	cart := u.Entities[0]
	if len(cart.Triangles) != 1 || len(cart.Triangles[0].Points) != 6 || len(cart.Lines) != 1 || len(cart.Cylinders) != 1 {
		t.Fatalf("cart %d triangle lists (%d points), %d lines, %d cylinders; want 1 (6), 1, 1",
			len(cart.Triangles), len(cart.Triangles[0].Points), len(cart.Lines), len(cart.Cylinders))
	}
	// The box: pose = cart pose in metres, rotated 90° about z; points in
	// the body frame in metres.
	tp := cart.Triangles[0].Pose
	if !near(tp.Position.X, 0.5) || !near(tp.Position.Y, 0.2) {
		t.Errorf("box position %+v; want (0.5, 0.2)", tp.Position)
	}
	if q := tp.Orientation; !near(q.Z, math.Sqrt2/2) || !near(q.W, math.Sqrt2/2) || q.X != 0 || q.Y != 0 {
		t.Errorf("box orientation %+v; want 90° about z", q)
	}
	if p := cart.Triangles[0].Points[1]; !near(p.X, 0.1) || !near(p.Y, -0.05) {
		t.Errorf("box vertex %+v; want (0.1, -0.05) in the body frame", p)
	}
	// The wheel at (10, 0) cm in the body frame: rotated 90° it is at
	// (50, 30) cm, and 6 cm across.
	cy := cart.Cylinders[0]
	if !near(cy.Pose.Position.X, 0.5) || !near(cy.Pose.Position.Y, 0.3) || !near(cy.Size.X, 0.06) {
		t.Errorf("wheel at %+v size %+v; want (0.5, 0.3) and 0.06 across", cy.Pose.Position, cy.Size)
	}
	if cy.Color != (Color{B: 1, A: 1}) {
		t.Errorf("wheel colour %+v; want blue", cy.Color)
	}
	// Layers stack: wheel (layer 3) above box (layer 2) above ground.
	if !(cy.Pose.Position.Z > tp.Position.Z && tp.Position.Z > 0) {
		t.Errorf("wheel z %g, box z %g; want wheel > box > 0", cy.Pose.Position.Z, tp.Position.Z)
	}
	goal := u.Entities[1]
	if len(goal.Lines) != 1 || goal.Lines[0].Type != LineLoop || len(goal.Lines[0].Points) != ringSegs {
		t.Errorf("goal %+v; want one %d-point ring", goal.Lines, ringSegs)
	}
	world := u.Entities[2]
	if len(world.Lines) != 1 || world.Lines[0].Type != LineStrip || !near(world.Lines[0].Thickness, 0.02) || world.Lines[0].ScaleInvariant {
		t.Errorf("world %+v; want one 2 cm line strip", world.Lines)
	}

	s := b.Step([]sim.Pose{{X: 10, Y: 0}, {X: 0, Y: 0}}, at.Add(time.Second))
	if len(s.Deletions) != 0 || len(s.Entities) != 2 || s.Entities[0].ID != "body/cart" {
		t.Fatalf("step %d deletions, %d entities; want 0 and the two bodies", len(s.Deletions), len(s.Entities))
	}
	if p := s.Entities[0].Triangles[0].Pose; !near(p.Position.X, 0.1) || p.Orientation.W != 1 {
		t.Errorf("stepped box pose %+v; want x 0.1, no rotation", p)
	}
	// Fewer poses than bodies: only those bodies are drawn.
	if s := b.Step([]sim.Pose{{}}, at); len(s.Entities) != 1 {
		t.Errorf("step with one pose has %d entities; want 1", len(s.Entities))
	}
}

func TestAppendJSONRoundTrip(t *testing.T) {
	b := NewBuilder(tinyScene(), "cm")
	u := b.Full([]sim.Pose{{X: 1.5, Y: -2, Angle: 0.3}, {X: 1e-9, Y: 3}}, time.Unix(5, 6))
	js, err := u.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var back SceneUpdate
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("AppendJSON output is not JSON: %v\n%s", err, js)
	}
	if !reflect.DeepEqual(&back, u) {
		t.Fatalf("decoded update differs from the built one:\n got %+v\nwant %+v", back, *u)
	}
	var generic map[string]any
	json.Unmarshal(js, &generic)
	ent := generic["entities"].([]any)[0].(map[string]any)
	for _, k := range []string{"arrows", "cubes", "spheres", "texts", "models", "metadata"} {
		if arr, ok := ent[k].([]any); !ok || len(arr) != 0 {
			t.Errorf("entity field %s = %v; want []", k, ent[k])
		}
	}
	viaMarshal, err := json.Marshal(u)
	if err != nil || string(viaMarshal) != string(js) {
		t.Errorf("json.Marshal gives %s (err %v); want the AppendJSON bytes", viaMarshal, err)
	}
}

func TestAppendJSONRejectsNaN(t *testing.T) {
	b := NewBuilder(tinyScene(), "cm")
	u := b.Step([]sim.Pose{{X: math.NaN()}, {}}, time.Unix(0, 0))
	got, err := u.AppendJSON([]byte("keep"))
	if err != ErrNotFinite || string(got) != "keep" {
		t.Fatalf("got %q, %v; want dst unchanged and ErrNotFinite", got, err)
	}
}

func TestAppendJSONEscapesStrings(t *testing.T) {
	u := &SceneUpdate{Entities: []Entity{{ID: "a\"b\\c\n\x01é"}}}
	js, err := u.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var back SceneUpdate
	if err := json.Unmarshal(js, &back); err != nil || back.Entities[0].ID != u.Entities[0].ID {
		t.Fatalf("got %q (err %v); want the id back", js, err)
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	b := NewBuilder(tinyScene(), "cm")
	poses := []sim.Pose{{X: 1, Y: 2, Angle: 0.5}, {X: 3}}
	at := time.Unix(10, 0)
	buf := make([]byte, 0, 1<<14)
	if n := testing.AllocsPerRun(100, func() {
		u := b.Step(poses, at)
		buf, _ = u.AppendJSON(buf[:0])
		u = b.Full(poses, at)
		buf, _ = u.AppendJSON(buf[:0])
	}); n != 0 {
		t.Fatalf("got %v allocations per Step+Full+AppendJSON; want 0", n)
	}
}

func TestNilSceneDrawsNothing(t *testing.T) {
	u := NewBuilder(nil, "px").Full([]sim.Pose{{X: 1}}, time.Unix(0, 0))
	if len(u.Entities) != 1 || u.Entities[0].ID != StaticID {
		t.Fatalf("got %+v; want only an empty world entity", u.Entities)
	}
}

func BenchmarkStepAppendJSON(b *testing.B) {
	bl := NewBuilder(tinyScene(), "cm")
	poses := []sim.Pose{{X: 1, Y: 2, Angle: 0.5}, {X: 3}}
	at := time.Unix(10, 0)
	buf := make([]byte, 0, 1<<14)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = bl.Step(poses, at).AppendJSON(buf[:0])
	}
}
