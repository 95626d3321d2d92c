package bus

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
)

// benchRows records n reach episodes and returns every row the tap heard
// (real rows: 12 observations, 2 actions, JSON about 700 B a step).
func benchRows(b *testing.B, episodes int) []demos.Row {
	b.Helper()
	var mu sync.Mutex
	var rows []demos.Row
	st := openStore(b)
	record(b, st, func(r demos.Row) { mu.Lock(); rows = append(rows, r); mu.Unlock() }, "s1@bench", 1, episodes)
	return rows
}

// benchBus is an embedded bus, or (tcp) a server in this process that
// the publisher and the ingester reach over loopback TCP, each on its own
// connection as separate processes would.
func benchBus(b *testing.B, tcp bool) (pubBus, inBus *Bus) {
	b.Helper()
	if !tcp {
		bb := embedded(b)
		return bb, bb
	}
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "nats"))
	b.Cleanup(srv.Shutdown)
	p, i := client(b, srv.ClientURL()), client(b, srv.ClientURL())
	waitReady(b, p)
	waitReady(b, i)
	return p, i
}

// BenchmarkBusSteps pushes recorded rows through the whole path — a
// recorder's tap, the publisher's buffer, JetStream (file storage), the
// ingester's consumer, SQLite — as fast as they go: rows/s end to end.
func BenchmarkBusSteps(b *testing.B) {
	for _, tcp := range []bool{false, true} {
		name := "in-process"
		if tcp {
			name = "tcp"
		}
		b.Run(name, func(b *testing.B) {
			rows := benchRows(b, 60)
			pb, ib := benchBus(b, tcp)
			learner := openStore(b)
			var done sync.WaitGroup
			var n int
			var mu sync.Mutex
			target := b.N * len(rows)
			done.Add(1)
			in := ib.Ingest(learner, IngesterConfig{Logger: quiet}, func(_ []demos.Row, sts []demos.IngestStatus) {
				mu.Lock()
				defer mu.Unlock()
				for _, s := range sts {
					if s != demos.Waiting {
						n++
						if n == target {
							done.Done()
						}
					}
				}
			})
			defer in.Close()
			pub := pb.NewPublisher(PublisherConfig{Logger: quiet, Buffer: 1 << 30})
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				for _, r := range rows {
					r.UID = fmt.Sprintf("%s-%d", r.UID, i) // a new episode each round
					pub.Tap(r)
				}
			}
			done.Wait()
			took := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(target)/took.Seconds(), "rows/s")
			b.ReportMetric(0, "ns/op")
			pub.Close(context.Background())
		})
	}
}

// BenchmarkBusLatency publishes rows at a steady 2,000 rows/s (100
// sessions at 20 Hz) and measures, per row, the time from the tap to the
// ingester's commit: what the bus adds between a tick and a learner's
// store (the recorder's own commit interval is not part of it).
func BenchmarkBusLatency(b *testing.B) {
	for _, tcp := range []bool{false, true} {
		name := "in-process"
		if tcp {
			name = "tcp"
		}
		b.Run(name, func(b *testing.B) {
			rows := benchRows(b, 60)
			pb, ib := benchBus(b, tcp)
			learner := openStore(b)
			const rate = 2000
			total := b.N * rate // b.N seconds
			sent := make([]time.Time, total)
			lat := make([]time.Duration, 0, total)
			idx := map[string]int{}
			var mu sync.Mutex
			all := make(chan struct{})
			in := ib.Ingest(learner, IngesterConfig{Logger: quiet}, func(rs []demos.Row, sts []demos.IngestStatus) {
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				for i, r := range rs {
					if sts[i] == demos.Waiting {
						continue
					}
					if k, ok := idx[r.UID+"-"+r.ID()]; ok {
						lat = append(lat, now.Sub(sent[k]))
						delete(idx, r.UID+"-"+r.ID())
					}
				}
				if len(lat) == total {
					close(all)
				}
			})
			defer in.Close()
			pub := pb.NewPublisher(PublisherConfig{Logger: quiet})
			b.ResetTimer()
			tick := time.NewTicker(10 * time.Millisecond) // 20 rows every 10 ms
			defer tick.Stop()
			for k := 0; k < total; {
				<-tick.C
				for range rate / 100 {
					r := rows[k%len(rows)]
					r.UID = fmt.Sprintf("%s-%d", r.UID, k/len(rows))
					mu.Lock()
					sent[k] = time.Now()
					idx[r.UID+"-"+r.ID()] = k
					mu.Unlock()
					pub.Tap(r)
					k++
				}
			}
			select {
			case <-all:
			case <-time.After(30 * time.Second):
				b.Fatalf("%d of %d rows ingested", len(lat), total)
			}
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
			b.ReportMetric(0, "ns/op")
			pub.Close(context.Background())
		})
	}
}

// BenchmarkEvalWorkers scores the push-t expert (skill 0.5) on 960
// held-out episodes in jobs of 40, with 1, 2 and 4 workers (one job at a
// time each, each on its own connection as a process would), against
// policies.Evaluate in one process with as many goroutines.
func BenchmarkEvalWorkers(b *testing.B) {
	const task, episodes, chunk = "push-t", 960, 40
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("bus-%d", workers), func(b *testing.B) {
			srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "nats"))
			defer srv.Shutdown()
			sub := client(b, srv.ClientURL())
			waitReady(b, sub)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range workers {
				w := client(b, srv.ClientURL())
				go w.Work(ctx, WorkerConfig{Slots: 1, Logger: quiet}, evalRunner)
			}
			b.ResetTimer()
			start := time.Now()
			var steps int
			for range b.N {
				r, err := sub.Evaluate(ctx, task, policies.Expert, episodes, chunk, 0)
				if err != nil {
					b.Fatal(err)
				}
				steps += r.EnvSteps
			}
			took := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N*episodes)/took, "episodes/s")
			b.ReportMetric(float64(steps)/took, "env-steps/s")
		})
		b.Run(fmt.Sprintf("local-%d", workers), func(b *testing.B) {
			start := time.Now()
			var steps int
			for range b.N {
				r, err := policies.Evaluate(context.Background(), policies.EvalConfig{
					NewTask:   func() sim.Task { tk, _ := tasks.New(task); return tk },
					NewPolicy: func(tk sim.Task, seed uint64) (sim.Policy, error) { return tk.Expert(0.5, seed), nil },
					Version:   policies.Expert, Episodes: episodes, Workers: workers,
				})
				if err != nil {
					b.Fatal(err)
				}
				steps += r.EnvSteps
			}
			took := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N*episodes)/took, "episodes/s")
			b.ReportMetric(float64(steps)/took, "env-steps/s")
		})
	}
}

// BenchmarkJobOverhead runs jobs of one short episode (reach, ~1 ms of
// simulation) through one worker with 4 slots: what a job costs on the
// bus (submit, KV states, fetch, progress, result, acknowledgement), which
// sets how small a chunk may be.
func BenchmarkJobOverhead(b *testing.B) {
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "nats"))
	defer srv.Shutdown()
	sub, w := client(b, srv.ClientURL()), client(b, srv.ClientURL())
	waitReady(b, sub)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Work(ctx, WorkerConfig{Slots: 4, Logger: quiet}, evalRunner)
	b.ResetTimer()
	start := time.Now()
	const jobs = 100
	for range b.N {
		if _, err := sub.Evaluate(ctx, "reach", policies.Expert, jobs, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*jobs)/time.Since(start).Seconds(), "jobs/s")
}
