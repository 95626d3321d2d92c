package manip

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tandem/sim"
)

// update rewrites the golden files: go test ./tasks/manip -run TestGolden -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGoldenPickPlace pins the pick-place trajectory bit for bit, in the
// manner of box2d's cpp_compliance_test: every body pose after every
// control step of an expert episode, each float as its IEEE-754 bits in hex.
// A change here means recorded episodes no longer replay: bump Spec.Version.
func TestGoldenPickPlace(t *testing.T) {
	task := NewPickPlace()
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	fmt.Fprintf(&got, "# pick-place version %d seed 7, expert skill 1: step then x y angle per body (%s)\n",
		task.Spec().Version, strings.Join(task.Scene().Bodies, ", "))
	obs := env.Reset(7)
	ex := task.Expert(1, 7)
	if r, ok := ex.(sim.Resetter); ok {
		r.Reset(7)
	}
	a := make([]float64, 3)
	poses := make([]sim.Pose, len(task.Scene().Bodies))
	for !env.Done() {
		ex.Act(obs.Slice(), a)
		s, err := env.Step(a)
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Next
		fmt.Fprintf(&got, "%d", s.T)
		for _, p := range task.Poses(poses) {
			fmt.Fprintf(&got, " %x %x %x", math.Float64bits(p.X), math.Float64bits(p.Y), math.Float64bits(p.Angle))
		}
		got.WriteByte('\n')
	}
	if !task.Success() {
		t.Fatal("expert episode did not succeed")
	}
	path := filepath.Join("testdata", "pick-place.golden")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("line %d:\ngot  %s\nwant %s", i+1, g, w)
		}
	}
}
