package foxglove

import "encoding/json"

// Schema is a JSON Schema node (jsonschema encoding), built with the
// helpers below for channel and MCAP schemas.
type Schema map[string]any

// Number, Integer, String and Boolean are leaf schemas.
func Number() Schema  { return Schema{"type": "number"} }
func Integer() Schema { return Schema{"type": "integer"} }
func String() Schema  { return Schema{"type": "string"} }
func Boolean() Schema { return Schema{"type": "boolean"} }

// Object is an object schema with the given properties; title may be
// empty and props nil (an object of any shape).
func Object(title string, props map[string]Schema) Schema {
	s := Schema{"type": "object"}
	if props != nil {
		s["properties"] = props
	}
	if title != "" {
		s["title"] = title
	}
	return s
}

// Array is an array schema of items.
func Array(items Schema) Schema { return Schema{"type": "array", "items": items} }

// NumberMap is an object whose values are all numbers (named vectors).
func NumberMap() Schema { return Schema{"type": "object", "additionalProperties": Number()} }

// String encodes the schema as JSON. Schemas hold only maps, strings and
// other schemas, so encoding cannot fail.
func (s Schema) String() string {
	b, err := json.Marshal(s)
	if err != nil {
		return `{"type":"object"}`
	}
	return string(b)
}

// sceneUpdateSchema is the JSON Schema of SceneUpdate, encoded once.
var sceneUpdateSchema = buildSceneUpdateSchema().String()

// SceneUpdateSchema returns the JSON Schema of the SceneUpdate messages
// this package writes: foxglove.SceneUpdate as of @foxglove/schemas 2.1.0,
// with the primitive kinds tandem does not draw described as objects of
// any shape.
func SceneUpdateSchema() string { return sceneUpdateSchema }

func buildSceneUpdateSchema() Schema {
	tm := func(title string) Schema {
		return Object(title, map[string]Schema{"sec": Integer(), "nsec": Integer()})
	}
	vec3 := Object("foxglove.Vector3", map[string]Schema{"x": Number(), "y": Number(), "z": Number()})
	pose := Object("foxglove.Pose", map[string]Schema{
		"position":    vec3,
		"orientation": Object("foxglove.Quaternion", map[string]Schema{"x": Number(), "y": Number(), "z": Number(), "w": Number()}),
	})
	color := Object("foxglove.Color", map[string]Schema{"r": Number(), "g": Number(), "b": Number(), "a": Number()})
	free := Object("", nil)
	entity := Object("foxglove.SceneEntity", map[string]Schema{
		"timestamp":    tm("time"),
		"frame_id":     String(),
		"id":           String(),
		"lifetime":     tm("duration"),
		"frame_locked": Boolean(),
		"metadata":     Array(Object("foxglove.KeyValuePair", map[string]Schema{"key": String(), "value": String()})),
		"cylinders": Array(Object("foxglove.CylinderPrimitive", map[string]Schema{
			"pose": pose, "size": vec3, "bottom_scale": Number(), "top_scale": Number(), "color": color,
		})),
		"lines": Array(Object("foxglove.LinePrimitive", map[string]Schema{
			"type": Integer(), "pose": pose, "thickness": Number(), "scale_invariant": Boolean(),
			"points": Array(vec3), "color": color, "colors": Array(color), "indices": Array(Integer()),
		})),
		"triangles": Array(Object("foxglove.TriangleListPrimitive", map[string]Schema{
			"pose": pose, "points": Array(vec3), "color": color, "colors": Array(color), "indices": Array(Integer()),
		})),
		"arrows": Array(free), "cubes": Array(free), "spheres": Array(free), "texts": Array(free), "models": Array(free),
	})
	return Object(SchemaName, map[string]Schema{
		"deletions": Array(Object("foxglove.SceneEntityDeletion", map[string]Schema{
			"timestamp": tm("time"), "type": Integer(), "id": String(),
		})),
		"entities": Array(entity),
	})
}
