// Package foxglove draws tandem's task scenes for Foxglove: it defines the
// foxglove.SceneUpdate messages tandem writes (field names of
// @foxglove/schemas 2.1.0), their JSON Schema, and a Builder that turns a
// sim.Scene and its body poses into updates. The MCAP export (demos) and
// the live Foxglove WebSocket endpoint (web) both use it, so a recording
// and a live session look the same. It also holds the small JSON Schema
// helpers both use for their other channels.
//
// # Frames and units
//
// Everything is in frame "world" (FrameID), x right, y up, lengths in
// metres: task units are scaled by UnitScale(spec.Units) (cm and Push-T's
// px at 1 unit = 1 cm, mm, m). Angles are counter-clockwise about +z and
// become quaternions about z (ZRotation). The scene is planar: shapes lie
// in planes z = rank(layer)·gap, where gap is a thousandth of the scene's
// larger side, so that layers stack in sim.Shape.Layer order without
// z-fighting when the 3-D panel is tilted.
//
// # Entities and primitives
//
// Body i of the scene is entity "body/<name>"; shapes with Body −1 form
// entity "world" (StaticID). Every primitive carries its body's pose, and
// its points stay in the body frame. Shapes map to primitives chosen for
// Foxglove's 3-D panel:
//   - filled circle: a flat cylinder (disc) of the circle's diameter;
//   - unfilled circle: a 32-vertex line loop, 1.5 px wide;
//   - filled polygon: a triangle fan (tandem's polygons are convex), plus
//     an opaque outline loop so thin shapes stay visible when zoomed out;
//   - unfilled polygon: a line loop; polyline: a line strip.
//
// Lines with a Width are that wide in metres; others are 1.5 screen
// pixels (scale-invariant). Discs and filled areas were chosen over
// spheres and bare outlines because the view is a plane seen from above:
// spheres bulge out of it and outlines leave fills unreadable.
//
// # Updates
//
// Builder.Full deletes all entities and draws the world and every body;
// send it at each reset and as a subscriber's first message. Builder.Step
// redraws only the bodies (same ids, so Foxglove replaces them); the world
// entity has a zero lifetime and stays until the next Full.
//
// # Allocation and goroutines
//
// NewBuilder allocates every primitive once. Step and Full only write
// poses and timestamps into the Builder's own buffers and return them: they
// do not allocate, and the result is valid until the next call. AppendJSON
// encodes an update into a caller's buffer without further allocation. A
// Builder belongs to one goroutine; the schema and helpers are safe for
// concurrent use.
package foxglove
