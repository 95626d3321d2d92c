package pusht

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenRun drives seed through sim.Env with a fixed, seeded action
// sequence (a random walk of the target that sweeps the agent through the
// T) and writes every step with exact float bits (%x). moved reports
// whether the block moved, so that the file pins contacts and not only the
// agent's PD law.
func goldenRun(t *testing.T, seed uint64, steps int) (out []byte, moved bool) {
	t.Helper()
	env, _ := newEnv(t)
	obs := env.Reset(seed)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# push-t v%d seed %d\n", env.Spec().Version, seed)
	writeVec(&buf, "reset", obs.Slice())
	r := rand.New(rand.NewPCG(seed, 42))
	b := obs.Slice()
	act := []float64{toNorm(b[obsBlockX]), toNorm(b[obsBlockY])}
	for i := 0; i < steps && !env.Done(); i++ {
		for k := range act {
			act[k] = min(max(act[k]+0.15*r.NormFloat64(), -0.9), 0.9)
		}
		s, err := env.Step(act)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		n := s.Next.Slice()
		moved = moved || n[obsBlockX] != b[obsBlockX] || n[obsBlockY] != b[obsBlockY]
		writeVec(&buf, fmt.Sprintf("%03d", s.T), n)
		fmt.Fprintf(&buf, "    reward %x success %v terminal %v truncated %v\n", s.Reward, s.Success, s.Terminal, s.Truncated)
	}
	return buf.Bytes(), moved
}

func writeVec(buf *bytes.Buffer, label string, v []float64) {
	fmt.Fprintf(buf, "%s", label)
	for _, x := range v {
		fmt.Fprintf(buf, " %x", x)
	}
	buf.WriteByte('\n')
}

// TestGolden pins the trajectories of fixed seeds and actions bit for bit,
// in the style of box2d's cpp_compliance_test. A change that alters them
// must bump Spec.Version and rewrite the files with -update.
func TestGolden(t *testing.T) {
	for _, seed := range []uint64{100000, 7} {
		name := filepath.Join("testdata", fmt.Sprintf("seed%d.golden", seed))
		got, moved := goldenRun(t, seed, 150)
		if !moved {
			t.Errorf("seed %d: the script never moved the block", seed)
		}
		// Same binary, same seed, same actions: the same bits again.
		if again, _ := goldenRun(t, seed, 150); !bytes.Equal(got, again) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s line %d:\n got %s\nwant %s", name, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: got %d lines; want %d", name, len(gl), len(wl))
		}
	}
}
