package bus

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"tandem/demos"
)

func TestStepsReachTheLearnerStoreOnce(t *testing.T) {
	b := embedded(t)
	origin, learner := openStore(t), openStore(t)
	pub := b.NewPublisher(PublisherConfig{Logger: quiet})
	var mu sync.Mutex
	var first []demos.Row // the first episodes' rows, published again below
	record(t, origin, func(r demos.Row) {
		pub.Tap(r)
		mu.Lock()
		first = append(first, r)
		mu.Unlock()
	}, "rollout@a", 1, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	in := b.Ingest(learner, IngesterConfig{Logger: quiet}, nil)
	_, want := count(t, origin)
	eventually(t, 20*time.Second, "steps ingested", func() bool { _, n := count(t, learner); return n == want })
	in.Close()
	sameSteps(t, origin, learner)

	// A second ingester under the same name takes up where the first
	// stopped.
	record(t, origin, pub.Tap, "rollout@a", 100, 2)
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	in = b.Ingest(learner, IngesterConfig{Logger: quiet}, nil)
	defer in.Close()
	_, want = count(t, origin)
	eventually(t, 20*time.Second, "new steps ingested", func() bool { _, n := count(t, learner); return n == want })
	sameSteps(t, origin, learner)
	if st := in.Stats(); st.Duplicates != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v: want no duplicates or drops", st)
	}

	// Every row of the first episodes published again without a message
	// id (as a republish after the duplicate window is: the stream keeps
	// it) reaches the ingester and changes nothing in the store: its steps
	// and begins are duplicates (an end is written again, the same).
	before := in.Stats()
	wantDup := 0
	for _, r := range first {
		if r.Kind != demos.RowEnd {
			wantDup++
		}
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.JetStream().Publish(ctx, Subject("rollout@a"), data); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "republished rows handled", func() bool {
		st := in.Stats()
		return st.Duplicates+st.Ingested-before.Ingested == uint64(len(first))
	})
	sameSteps(t, origin, learner)
	if st := in.Stats(); st.Duplicates < uint64(wantDup) || st.Dropped != 0 || st.Waiting != 0 {
		t.Fatalf("stats %+v: want at least %d duplicates (every step and begin), nothing dropped or waiting", st, wantDup)
	}
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPublisherRidesOutAnOutage stops the bus for a while during
// publishing: the publisher buffers, never blocks the tap, and every row
// arrives once after the bus is back.
func TestPublisherRidesOutAnOutage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nats")
	srv := startServer(t, "127.0.0.1:0", dir)
	url := srv.ClientURL()
	addr := url[len("nats://"):]
	pb, lb := client(t, url), client(t, url)
	waitReady(t, pb)
	waitReady(t, lb)
	origin, learner := openStore(t), openStore(t)
	pub := pb.NewPublisher(PublisherConfig{Logger: quiet})
	in := lb.Ingest(learner, IngesterConfig{Logger: quiet, AckWait: 2 * time.Second}, nil)
	defer in.Close()
	record(t, origin, pub.Tap, "s1@x", 1, 2)

	srv.Shutdown()
	start := time.Now()
	record(t, origin, pub.Tap, "s1@x", 10, 3) // while the bus is down
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("recording with the bus down took %v", took)
	}
	if st := pub.Stats(); st.Buffered == 0 {
		t.Fatalf("nothing buffered during the outage: %+v", st)
	}
	time.Sleep(2 * time.Second)
	srv = startServer(t, addr, dir)
	defer srv.Shutdown()
	back := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("buffer published %v after the bus returned", time.Since(back))
	_, want := count(t, origin)
	eventually(t, 30*time.Second, "steps ingested", func() bool { _, n := count(t, learner); return n == want })
	t.Logf("steps ingested %v after the bus returned", time.Since(back))
	sameSteps(t, origin, learner)
	if st := pub.Stats(); st.Dropped != 0 {
		t.Fatalf("publisher dropped rows: %+v", st)
	}
	pub.Close(ctx)
}

func TestPublisherDropsBeyondItsBuffer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nats")
	srv := startServer(t, "127.0.0.1:0", dir)
	b := client(t, srv.ClientURL())
	waitReady(t, b)
	srv.Shutdown()
	origin := openStore(t)
	pub := b.NewPublisher(PublisherConfig{Logger: quiet, Buffer: 64 << 10})
	record(t, origin, pub.Tap, "s1@x", 1, 20)
	st := pub.Stats()
	if st.Dropped == 0 || st.BufferBytes > 64<<10 {
		t.Fatalf("stats %+v: want drops and at most 64 KiB buffered", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := pub.Close(ctx); err == nil {
		t.Fatal("Close with the bus down reported everything published")
	}
}

// TestASlowLearnerDoesNotHoldThePublisherUp: a consumer that takes one row
// and never acknowledges it (a learner stuck in a long training) changes
// nothing for the publisher: the steps stream keeps rows by its limits,
// not by its consumers.
func TestASlowLearnerDoesNotHoldThePublisherUp(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := b.JetStream().CreateOrUpdateConsumer(ctx, StepsStream, jetstream.ConsumerConfig{
		Durable: "stuck", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1})
	if err != nil {
		t.Fatal(err)
	}
	origin := openStore(t)
	pub := b.NewPublisher(PublisherConfig{Logger: quiet})
	record(t, origin, pub.Tap, "s1@x", 1, 2)
	if _, err := cons.Fetch(1); err != nil { // taken, never acknowledged
		t.Fatal(err)
	}
	start := time.Now()
	record(t, origin, pub.Tap, "s1@x", 10, 40)
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := pub.Stats()
	_, steps := count(t, origin)
	if st.Dropped != 0 || int(st.Published) < steps {
		t.Fatalf("stats %+v: want every one of %d steps published", st, steps)
	}
	t.Logf("%d rows published in %v with a consumer stuck", st.Published, time.Since(start))
}

// TestARepublishedRowIsStoredOnce: a row published twice (as after a lost
// acknowledgement) carries the same message id, so the steps stream's
// duplicate window stores it once.
func TestARepublishedRowIsStoredOnce(t *testing.T) {
	b := embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub := b.NewPublisher(PublisherConfig{Logger: quiet})
	var n atomic.Uint64 // rows the recorder tapped
	record(t, openStore(t), func(r demos.Row) {
		n.Add(1)
		pub.Tap(r)
		pub.Tap(r)
	}, "s1@x", 1, 2)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rows := n.Load()
	s, err := b.JetStream().Stream(ctx, StepsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.State.Msgs; got != rows {
		t.Fatalf("got %d messages in the stream; want %d (each row once)", got, rows)
	}
	if st := pub.Stats(); st.Published != 2*rows {
		t.Fatalf("stats %+v: want %d acknowledged publishes", st, 2*rows)
	}
}
