package foxglove

import "time"

// SchemaName is the schema name Foxglove recognises for scene updates.
const SchemaName = "foxglove.SceneUpdate"

// FrameID is the coordinate frame every entity is drawn in.
const FrameID = "world"

// Line types of LinePrimitive (foxglove.LineType).
const (
	LineStrip = 0
	LineLoop  = 1
	LineList  = 2
)

// Deletion types of SceneEntityDeletion (foxglove.SceneEntityDeletionType).
const (
	DeleteMatchingID = 0
	DeleteAll        = 1
)

// Time is a timestamp (foxglove time: seconds and nanoseconds since the
// Unix epoch). A zero Time used as a lifetime means "until replaced".
type Time struct {
	Sec  uint32 `json:"sec"`
	Nsec uint32 `json:"nsec"`
}

// TimeOf converts t; times before the epoch become zero.
func TimeOf(t time.Time) Time {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return Time{Sec: uint32(ns / 1e9), Nsec: uint32(ns % 1e9)}
}

// Vector3 is a point or size in metres.
type Vector3 struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
}

// Quaternion is an orientation (x, y, z, w).
type Quaternion struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
	W float64 `json:"w"`
}

// Pose is a position in metres and an orientation.
type Pose struct {
	Position    Vector3    `json:"position"`
	Orientation Quaternion `json:"orientation"`
}

// Color is RGBA, each component in [0, 1].
type Color struct {
	R float64 `json:"r"`
	G float64 `json:"g"`
	B float64 `json:"b"`
	A float64 `json:"a"`
}

// KeyValue is one entry of an entity's metadata.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Cylinder is a CylinderPrimitive: its axis is the pose's z axis and Size
// is its bounding box (diameter x, diameter y, height).
type Cylinder struct {
	Pose        Pose    `json:"pose"`
	Size        Vector3 `json:"size"`
	BottomScale float64 `json:"bottom_scale"`
	TopScale    float64 `json:"top_scale"`
	Color       Color   `json:"color"`
}

// Line is a LinePrimitive. Points are in the pose's frame. Thickness is in
// metres, or in screen pixels when ScaleInvariant.
type Line struct {
	Type           int       `json:"type"`
	Pose           Pose      `json:"pose"`
	Thickness      float64   `json:"thickness"`
	ScaleInvariant bool      `json:"scale_invariant"`
	Points         []Vector3 `json:"points"`
	Color          Color     `json:"color"`
	Colors         []Color   `json:"colors"`
	Indices        []uint32  `json:"indices"`
}

// Triangles is a TriangleListPrimitive: every three points are one
// triangle, in the pose's frame.
type Triangles struct {
	Pose    Pose      `json:"pose"`
	Points  []Vector3 `json:"points"`
	Color   Color     `json:"color"`
	Colors  []Color   `json:"colors"`
	Indices []uint32  `json:"indices"`
}

// Entity is a SceneEntity: a group of primitives that is replaced as a
// whole when an entity with the same ID arrives. Arrows, cubes, spheres,
// texts and models are not used by tandem; they are written as empty
// arrays.
type Entity struct {
	Timestamp   Time        `json:"timestamp"`
	FrameID     string      `json:"frame_id"`
	ID          string      `json:"id"`
	Lifetime    Time        `json:"lifetime"`
	FrameLocked bool        `json:"frame_locked"`
	Metadata    []KeyValue  `json:"metadata"`
	Cylinders   []Cylinder  `json:"cylinders"`
	Lines       []Line      `json:"lines"`
	Triangles   []Triangles `json:"triangles"`
}

// Deletion is a SceneEntityDeletion.
type Deletion struct {
	Timestamp Time   `json:"timestamp"`
	Type      int    `json:"type"`
	ID        string `json:"id"`
}

// SceneUpdate is a foxglove.SceneUpdate: deletions are applied before
// entities are added or replaced.
type SceneUpdate struct {
	Deletions []Deletion `json:"deletions"`
	Entities  []Entity   `json:"entities"`
}
