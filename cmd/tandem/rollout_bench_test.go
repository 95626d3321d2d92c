package main

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRolloutRecord runs `tandem rollout --task reach --episodes 400
// --seed 1` with and without --record, side by side in one process, and
// reports the recording's cost per step (the difference) and its rate.
// docs/benchmarks.md has the figures.
//
//	go test ./cmd/tandem -run '^$' -bench RolloutRecord -benchtime 5x
func BenchmarkRolloutRecord(b *testing.B) {
	const episodes = 400
	args := []string{"rollout", "--task", "reach", "--episodes", strconv.Itoa(episodes), "--seed", "1", "--json"}
	steps := 0
	{ // count the steps once
		var out countWriter
		if code := run(args, &out, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		steps = out.steps
	}
	var off, on time.Duration
	for i := range b.N {
		dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
		t0 := time.Now()
		if code := run(args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		t1 := time.Now()
		if code := run(append(args, "--record", "--data", dir), io.Discard, io.Discard); code != 0 {
			b.Fatalf("record: exit %d", code)
		}
		off += t1.Sub(t0)
		on += time.Since(t1)
	}
	n := float64(b.N * steps)
	b.ReportMetric(float64(off.Nanoseconds())/n, "ns/step-plain")
	b.ReportMetric(float64(on.Nanoseconds())/n, "ns/step-recorded")
	extra := float64((on - off).Nanoseconds()) / n
	b.ReportMetric(extra, "ns/step-recording")
	if extra > 0 {
		b.ReportMetric(1e9/extra, "recorded-steps/s")
	}
}

// countWriter counts the steps in rollout --json's summary line.
type countWriter struct{ steps int }

func (c *countWriter) Write(p []byte) (int, error) {
	var sum struct {
		Episodes   int     `json:"episodes"`
		MeanLength float64 `json:"mean_length"`
		Requested  int     `json:"requested"`
	}
	if json.Unmarshal(p, &sum) == nil && sum.Requested > 0 {
		c.steps = int(float64(sum.Episodes)*sum.MeanLength + 0.5)
	}
	return len(p), nil
}
