package demos

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tandem/sim"
)

// BenchmarkRecorderSteps measures sustained recording into SQLite: steps
// with 20-float observations go through the recorder's reader path (row
// conversion, bounded queue) while its writer commits every 100 ms. The
// steps/s metric counts steps committed (Flush at the end is included).
func BenchmarkRecorderSteps(b *testing.B) {
	s, _ := openTest(b)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, MaxPending: 1 << 22})
	defer rec.Close()
	task := newDot(20, 10)
	spec := task.Spec()
	js, _ := json.Marshal(spec)
	sid, err := s.newSession(context.Background(), "bench", spec.Name, time.Now(), nil)
	if err != nil {
		b.Fatal(err)
	}
	t := &Recording{r: rec, sessionID: sid, spec: spec, specJSON: string(js)}
	t.sess, _ = sim.NewSession(task, sim.SessionConfig{ID: "bench", Controller: expertCtl(task), Clock: sim.WallClock{}})
	// Pre-build one episode of records to feed repeatedly.
	eps := rollout(b, 20, []uint64{1}, expertCtl)
	recs := eps[0].Steps
	now := time.Now()
	reset := &sim.Record{Kind: sim.ResetRecord, Episode: 0, ControlHz: 10, Wall: now}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		k := i % len(recs)
		if k == 0 {
			reset.Episode++
			t.cut(now)
			t.begin(reset, recs[0].Obs.Slice())
		}
		r := recs[k]
		r.Episode, r.Wall = reset.Episode, now
		t.step(&r)
	}
	t.cut(now)
	if err := rec.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	st := rec.Stats()
	if st.DroppedSteps != 0 {
		b.Fatalf("dropped %d steps", st.DroppedSteps)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "steps/s")
	// The machine is shared: steps per CPU-second of this process is the
	// cost that does not depend on how busy the other cores are.
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "steps/cpu-s")
	}
	b.ReportMetric(float64(st.MaxCommitTook.Milliseconds()), "max-commit-ms")
}

// seedBenchStore fills a store with n 50-step episodes of 20-float
// observations.
func seedBenchStore(b *testing.B, n int) *Store {
	s, _ := openTest(b)
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i)
	}
	addRollouts(b, s, 20, seeds, "", sharedCtl)
	return s
}

// BenchmarkExportMCAP and BenchmarkExportLeRobot report MB/s of output
// written (b.SetBytes with the size of one export, which is the same every
// iteration) and steps/s.
func BenchmarkExportMCAP(b *testing.B) {
	s := seedBenchStore(b, 20)
	ctx := context.Background()
	export := func() ExportStats {
		st, err := ExportMCAP(ctx, s, Filter{}, io.Discard, ExportOptions{Lookup: dotLookup(20, 10)})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	first := export()
	b.SetBytes(first.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st := export(); st.Bytes != first.Bytes {
			b.Fatalf("export %d wrote %d bytes; the first wrote %d", i, st.Bytes, first.Bytes)
		}
	}
	b.ReportMetric(float64(b.N*first.Steps)/b.Elapsed().Seconds(), "steps/s")
}

func BenchmarkExportLeRobot(b *testing.B) {
	s := seedBenchStore(b, 20)
	ctx := context.Background()
	dir := b.TempDir()
	n := 0
	export := func() ExportStats {
		n++
		st, err := ExportLeRobot(ctx, s, Filter{}, filepath.Join(dir, strconv.Itoa(n)), ExportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	first := export()
	b.SetBytes(first.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		export()
	}
	b.ReportMetric(float64(b.N*first.Steps)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkReplayVerify measures Verify (read, decode, re-simulate, compare)
// on the test task, whose physics is trivial: it is the replay machinery's
// own cost.
func BenchmarkReplayVerify(b *testing.B) {
	s := seedBenchStore(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	steps := 0
	start := time.Now()
	for i := 0; i < b.N; i++ {
		n, err := Verify(ctx, s, 1, dotLookup(20, 10))
		if err != nil {
			b.Fatal(err)
		}
		steps += n
	}
	b.ReportMetric(float64(steps)/time.Since(start).Seconds(), "steps/s")
}

// BenchmarkRolloutRecording measures the headless path of tandem rollout
// --record: whole 25-step episodes of 20-float observations added to a
// RolloutRecording and committed by the recorder's writer (every 100 ms,
// whole episodes per transaction). steps/s counts steps committed (the
// final Flush included); steps/cpu-s is the cost that does not depend on
// how busy the other cores are.
func BenchmarkRolloutRecording(b *testing.B) {
	s, _ := openTest(b)
	rec := NewRecorder(s, RecorderConfig{Logger: quiet, MaxPending: 1 << 15})
	defer rec.Close()
	spec := newDot(20, 10).Spec()
	w, err := rec.Rollout(context.Background(), RolloutInfo{Spec: spec, Mode: sim.ModeAuto})
	if err != nil {
		b.Fatal(err)
	}
	eps := rollout(b, 20, []uint64{1}, func(task sim.Task) sim.Controller { return sim.Auto(task.Expert(1, 0), "expert") })
	ep := eps[0]
	ep.Steps = ep.Steps[:25]
	ep.Start = time.Now()
	for i := range ep.Steps {
		ep.Steps[i].Wall = ep.Start.Add(time.Duration(i) * time.Microsecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for n < b.N {
		if err := w.Add(context.Background(), &ep); err != nil {
			b.Fatal(err)
		}
		n += len(ep.Steps)
	}
	if err := rec.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(n)/el.Seconds(), "steps/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "steps/cpu-s")
	}
	b.ReportMetric(float64(rec.Stats().MaxCommitTook.Milliseconds()), "max-commit-ms")
}
