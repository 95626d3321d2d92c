package foxglove

import (
	"encoding/json"
	"testing"
)

func TestSchemaHelpers(t *testing.T) {
	s := Object("tandem.X", map[string]Schema{"v": Array(Number()), "m": NumberMap(), "n": Object("", nil)})
	var got map[string]any
	if err := json.Unmarshal([]byte(s.String()), &got); err != nil {
		t.Fatal(err)
	}
	props := got["properties"].(map[string]any)
	if got["type"] != "object" || got["title"] != "tandem.X" {
		t.Errorf("got %v; want an object titled tandem.X", got)
	}
	if props["v"].(map[string]any)["items"].(map[string]any)["type"] != "number" {
		t.Errorf("v = %v; want an array of numbers", props["v"])
	}
	if props["m"].(map[string]any)["additionalProperties"] == nil {
		t.Errorf("m = %v; want additionalProperties", props["m"])
	}
	if n := props["n"].(map[string]any); n["type"] != "object" || n["properties"] != nil || n["title"] != nil {
		t.Errorf("n = %v; want a bare object", n)
	}
}
