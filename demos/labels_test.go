package demos

import (
	"reflect"
	"testing"

	"tandem/sim"
)

// seq builds steps from a string: d demo, r robot, h human; an upper-case
// H marks an intervention start flag.
func seq(s string) []Step {
	out := make([]Step, len(s))
	for i, c := range s {
		out[i].T = i
		switch c {
		case 'd':
			out[i].Source = sim.Demo
		case 'r':
			out[i].Source = sim.Robot
		case 'h':
			out[i].Source = sim.Human
		case 'H':
			out[i].Source, out[i].InterventionStart = sim.Human, true
		}
	}
	return out
}

func TestLabelSteps(t *testing.T) {
	const P, D, R, I = sim.ClassPreIntervention, sim.ClassDemo, sim.ClassRobot, sim.ClassIntervention
	tests := []struct {
		name   string
		steps  string
		window int
		class  []sim.Class
		starts []int // indices with InterventionStart
		rlif   []int // indices with reward -1
	}{
		{"demo only", "ddd", 2, []sim.Class{D, D, D}, nil, nil},
		{"robot only", "rrr", 2, []sim.Class{R, R, R}, nil, nil},
		{"window shorter than the robot run", "rrrrHhr", 2, []sim.Class{R, R, P, P, I, I, R}, []int{4}, []int{3}},
		{"window longer than the run", "rrHh", 15, []sim.Class{P, P, I, I}, []int{2}, []int{1}},
		{"stops at the previous intervention", "rHhrrHr", 15, []sim.Class{P, I, I, P, P, I, R}, []int{1, 5}, []int{0, 4}},
		{"start derived without a flag", "rrhh", 1, []sim.Class{R, P, I, I}, []int{2}, []int{1}},
		{"intervention at step 0", "Hhrr", 3, []sim.Class{I, I, R, R}, []int{0}, nil},
		{"default window is 15", "rrrrrrrrrrrrrrrrrH", 0, append([]sim.Class{R, R}, append(repeat(P, 15), I)...), []int{17}, []int{16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := LabelSteps(seq(tc.steps), tc.window)
			var class []sim.Class
			var starts, rlif []int
			for i, l := range got {
				class = append(class, l.Class)
				if l.InterventionStart {
					starts = append(starts, i)
				}
				if l.RLIFReward == -1 {
					rlif = append(rlif, i)
				} else if l.RLIFReward != 0 {
					t.Fatalf("step %d RLIF reward %v; want 0 or -1", i, l.RLIFReward)
				}
			}
			if !reflect.DeepEqual(class, tc.class) {
				t.Fatalf("classes %v; want %v", class, tc.class)
			}
			if !reflect.DeepEqual(starts, tc.starts) {
				t.Fatalf("starts %v; want %v", starts, tc.starts)
			}
			if !reflect.DeepEqual(rlif, tc.rlif) {
				t.Fatalf("RLIF -1 at %v; want %v", rlif, tc.rlif)
			}
		})
	}
}

func repeat(c sim.Class, n int) []sim.Class {
	out := make([]sim.Class, n)
	for i := range out {
		out[i] = c
	}
	return out
}
