package surgical

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"tandem/sim"
)

var wantNames = []string{
	"needle-reach", "gauze-retrieve", "needle-pick", "peg-transfer",
	"tissue-retract", "bi-peg-transfer", "needle-regrasp",
}

func TestCatalogue(t *testing.T) {
	makers := Makers()
	if len(makers) != len(wantNames) {
		t.Fatalf("got %d tasks; want %d", len(makers), len(wantNames))
	}
	for i, m := range makers {
		task := m()
		spec := task.Spec()
		if spec.Name != wantNames[i] {
			t.Errorf("task %d: got name %q; want %q", i, spec.Name, wantNames[i])
		}
		if err := spec.Validate(); err != nil {
			t.Errorf("%s: %v", spec.Name, err)
		}
		tools := len(task.(interface{ ToolForces([]float64) []float64 }).ToolForces(nil)) / 2
		wantH := map[int]int{1: 50, 2: 100}[tools]
		if spec.Kind != sim.Surgical || spec.Horizon != wantH || spec.ControlHz != 5 || spec.TeleopHz != 20 ||
			spec.PhysicsHz != 240 || spec.Substeps(0) != 48 || spec.Units != "cm" || spec.ActionSize() != 4*tools {
			t.Errorf("%s: got kind %s horizon %d rates %g/%g/%g units %s actions %d; want surgical %d 5/20/240 cm %d",
				spec.Name, spec.Kind, spec.Horizon, spec.ControlHz, spec.TeleopHz, spec.PhysicsHz, spec.Units, spec.ActionSize(), wantH, 4*tools)
		}
		if _, ok := task.(sim.ForceReporter); !ok {
			t.Errorf("%s: not a sim.ForceReporter", spec.Name)
		}
		if _, ok := task.(sim.Holder); !ok {
			t.Errorf("%s: not a sim.Holder", spec.Name)
		}
		if n, p := len(task.Scene().Bodies), len(task.Poses(nil)); n != p {
			t.Errorf("%s: got %d poses for %d scene bodies", spec.Name, p, n)
		}
	}
}

// randomActions fills a with values in [-lim, lim].
func randomActions(r *rand.Rand, a []float64, lim float64) {
	for i := range a {
		a[i] = (2*r.Float64() - 1) * lim
	}
}

func TestResetReproducible(t *testing.T) {
	for name, mk := range taskMakers() {
		t.Run(name, func(t *testing.T) {
			run := func(task sim.Task) []float64 {
				env, err := sim.NewEnv(task, sim.EnvConfig{})
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(1, 2))
				obs := env.Reset(7)
				out := obs.Append(nil)
				a := make([]float64, env.Spec().ActionSize())
				for range 6 {
					randomActions(r, a, 1)
					s, err := env.Step(a)
					if err != nil {
						t.Fatal(err)
					}
					out = s.Next.Append(out)
				}
				return out
			}
			reused := mk()
			reused.Reset(99) // a different episode first must not leak into the next
			a, b := run(mk()), run(reused)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("value %d: got %v; want %v (same seed, same actions)", i, b[i], a[i])
				}
			}
		})
	}
}

func TestExpertSucceeds(t *testing.T) {
	seeds := []uint64{11, 12, 13}
	for name, mk := range taskMakers() {
		t.Run(name, func(t *testing.T) {
			task := mk()
			for _, seed := range seeds {
				if ok, n := runExpert(t, task, 1, seed); !ok {
					t.Errorf("seed %d: expert failed after %d steps; want success", seed, n)
				}
			}
		})
	}
}

func TestBadActionRejected(t *testing.T) {
	for name, mk := range taskMakers() {
		t.Run(name, func(t *testing.T) {
			env, _ := sim.NewEnv(mk(), sim.EnvConfig{})
			obs := env.Reset(3)
			n := env.Spec().ActionSize()
			bad := [][]float64{make([]float64, n+1), make([]float64, n), make([]float64, n)}
			bad[1][0] = math.NaN()
			bad[2][n-1] = math.Inf(-1)
			for i, a := range bad {
				_, err := env.Step(a)
				var ae *sim.ActionError
				if !errors.As(err, &ae) {
					t.Fatalf("bad action %d: got error %v; want *sim.ActionError", i, err)
				}
			}
			now := make([]float64, len(obs.Slice()))
			env.Observe(now)
			for i := range now {
				if now[i] != obs.Slice()[i] {
					t.Fatalf("obs[%d] changed to %v from %v after refused actions", i, now[i], obs.Slice()[i])
				}
			}
			s, err := env.Step(make([]float64, n))
			if err != nil || s.T != 0 {
				t.Fatalf("good action after refused ones: got T=%d err=%v; want T=0, nil", s.T, err)
			}
		})
	}
}

// TestRCM drives every instrument with random and saturating commands and
// checks after every physics substep that the shaft passes through its port
// within 1 mm and the jaw tip stays in its workspace.
func TestRCM(t *testing.T) {
	for name, mk := range taskMakers() {
		t.Run(name, func(t *testing.T) {
			task := mk()
			b := benchOf(task)
			spec := task.Spec()
			r := rand.New(rand.NewPCG(5, 6))
			a := make([]float64, spec.ActionSize())
			for ep := range 2 {
				task.Reset(uint64(ep))
				for step := range 25 {
					randomActions(r, a, 1)
					if step%3 == 0 { // saturate: full commands towards a corner
						for i := range a {
							a[i] = math.Copysign(1, a[i])
						}
					}
					hz := []float64{spec.ControlHz, spec.TeleopHz}[step%2]
					period := 1 / hz
					task.Act(a, period)
					n := spec.Substeps(hz)
					for range n {
						task.Substep(period / float64(n))
						for k, in := range b.tools {
							if e := in.portError(); !(e < 0.1) {
								t.Fatalf("episode %d step %d tool %d: shaft misses the port by %.4f cm; want < 0.1", ep, step, k, e)
							}
							// Joint-space interpolation bows the path between
							// commanded points slightly: allow 0.1 mm.
							const slack = 0.01
							tip := in.tip()
							ws := in.ws
							if tip[0] < ws[0]-slack || tip[0] > ws[2]+slack || tip[1] > ws[3]+slack || tip[1] < in.floor {
								t.Fatalf("tool %d tip %v outside workspace %v", k, tip, ws)
							}
						}
					}
				}
			}
		})
	}
}

// TestTeleopRateSpeed: the same normalised command moves the tool the same
// distance per second at TeleopHz as at ControlHz.
func TestTeleopRateSpeed(t *testing.T) {
	task := newNeedleReach()
	b := benchOf(task)
	move := func(hz float64, steps int) vec {
		task.Reset(1)
		start := b.tools[0].tip()
		env, _ := sim.NewEnv(task, sim.EnvConfig{ControlHz: hz})
		env.Reset(1)
		for range steps {
			if _, err := env.Step([]float64{0.5, 0.25, 0, -1}); err != nil {
				t.Fatal(err)
			}
		}
		return b.tools[0].tip().Sub(start)
	}
	slow, fast := move(5, 2), move(20, 8)
	if d := slow.Sub(fast).Len(); d > 1e-9 {
		t.Fatalf("0.4 s of the same command: got %v at 20 Hz, %v at 5 Hz; want equal", fast, slow)
	}
	if got := slow.Len(); math.Abs(got-math.Hypot(1, 0.5)) > 1e-9 {
		t.Fatalf("2 steps of (0.5, 0.25): moved %.4f cm; want %.4f", got, math.Hypot(1, 0.5))
	}
}

func TestEnvStepDoesNotAllocate(t *testing.T) {
	for name, mk := range taskMakers() {
		t.Run(name, func(t *testing.T) {
			task := mk()
			env, _ := sim.NewEnv(task, sim.EnvConfig{})
			env.Reset(2)
			a := make([]float64, env.Spec().ActionSize())
			for i := range a {
				a[i] = 0.01
			}
			for range 3 { // let contacts form with real physics first
				env.Step(a)
			}
			// Box2D's own Step allocates (islands, contact solvers: see
			// BenchmarkPhysicsSubstep); measure tandem's code around it.
			benchOf(task).stepPhysics = func(float64) {}
			allocs := testing.AllocsPerRun(5, func() {
				if _, err := env.Step(a); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("Env.Step allocates %v times per step outside Box2D; want 0", allocs)
			}
		})
	}
}

// benchOf returns the shared part of a surgical task.
func benchOf(task sim.Task) *bench {
	return task.(interface{ base() *bench }).base()
}
