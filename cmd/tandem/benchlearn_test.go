package main

import (
	"encoding/json"
	"testing"
)

func TestBenchLearnJSON(t *testing.T) {
	code, out, stderr := tandem(t, "bench", "--learn", "--seconds", "0.05", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Kernel      string           `json:"kernel"`
		SamplesPerS float64          `json:"bc_samples_per_s"`
		ActUs       float64          `json:"act_us"`
		Critics     []map[string]any `json:"critics"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench --learn --json: %v\n%s", err, out)
	}
	if r.Kernel == "" || !(r.SamplesPerS > 0) || !(r.ActUs > 0) || len(r.Critics) != 4 {
		t.Errorf("bench --learn: %+v; want a kernel, positive speeds and 4 critic figures", r)
	}
}
