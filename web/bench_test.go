package web

import (
	"context"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"tandem/live"
	"tandem/sim"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// benchTask is the task benchmarks run (TANDEM_BENCH_TASK, default push-t).
func benchTask() string {
	if t := os.Getenv("TANDEM_BENCH_TASK"); t != "" {
		return t
	}
	return DefaultTask
}

// BenchmarkEventToScreen measures, on the wall clock, the time from an
// operator command being written to the socket to the first frame that
// acknowledges it (ack >= its seq): waiting for the next tick (up to one
// period at 20 Hz) plus the step, encoding and delivery. Reports p50/p99.
//
//	go test ./web/ -run '^$' -bench EventToScreen -benchtime 200x
func BenchmarkEventToScreen(b *testing.B) {
	b.ReportAllocs()
	srv, err := New(Config{Addr: "127.0.0.1:0", Task: benchTask(), NoDefaultSession: true, NoStore: true, Token: testToken, Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	info, err := srv.CreateSession(SessionOptions{Mode: string(sim.ModeShared), ControlHz: 20})
	if err != nil {
		b.Fatal(err)
	}
	u := url.URL{Scheme: "ws", Host: srv.Addr(), Path: "/api/sessions/" + info.ID + "/ws", RawQuery: "token=" + testToken}
	c, _, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	n := len(srv.cfg.Catalog.Specs()[0].ActionNames)
	for _, s := range srv.cfg.Catalog.Specs() {
		if s.Name == benchTask() {
			n = len(s.ActionNames)
		}
	}
	lats := make([]time.Duration, 0, b.N)
	deliver := make([]time.Duration, 0, b.N)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for i := range b.N {
		seq := i + 1
		// Send at a random phase of the tick: a command sent right after a
		// frame would always wait a whole period.
		time.Sleep(time.Duration(rng.Int64N(int64(50 * time.Millisecond))))
		msg := []byte(`{"type":"command","seq":` + strconv.Itoa(seq) + `,"engaged":true,"action":[0` + repeatZeros(n-1) + `]}`)
		t0 := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		for {
			_, m, err := c.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if ack, ok := frameAck(m); ok && ack >= uint64(seq) {
				if wall, ok := frameWall(m); ok {
					deliver = append(deliver, time.Since(time.UnixMilli(wall)))
				}
				break
			}
		}
		lats = append(lats, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lats)
	b.ReportMetric(float64(lats[len(lats)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lats[len(lats)*99/100])/1e6, "p99-ms")
	slices.Sort(deliver)
	if len(deliver) > 0 {
		// Tick to screen: the part after the loop sampled the command.
		b.ReportMetric(float64(deliver[len(deliver)/2])/1e6, "tick-to-screen-p50-ms")
		b.ReportMetric(float64(deliver[len(deliver)*99/100])/1e6, "tick-to-screen-p99-ms")
	}
}

func repeatZeros(n int) string {
	s := ""
	for range n {
		s += ",0"
	}
	return s
}

// frameAck extracts a frame's ack.
func frameAck(b []byte) (uint64, bool) {
	const key = `"ack":`
	i := len(b) - 1
	for ; i >= len(key); i-- {
		if string(b[i-len(key):i]) == key {
			break
		}
	}
	if i < len(key) {
		return 0, false
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	v, err := strconv.ParseUint(string(b[i:j]), 10, 64)
	return v, err == nil
}

// TestCapacity runs the capacity targets: 100 sessions at 20 Hz with one
// viewer each, and one session with 200 viewers; targets: tick overruns
// under 0.1% and p99 frame latency within one tick + 5 ms. Wall-clock and
// machine-dependent, so only with TANDEM_BENCH_SERVE=1:
//
//	TANDEM_BENCH_SERVE=1 go test ./web/ -run Capacity -v -timeout 300s
func TestCapacity(t *testing.T) {
	if os.Getenv("TANDEM_BENCH_SERVE") != "1" {
		t.Skip("set TANDEM_BENCH_SERVE=1 to run the capacity benchmark")
	}
	d := 10 * time.Second
	if s := os.Getenv("TANDEM_BENCH_SECONDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			d = time.Duration(n) * time.Second
		}
	}
	rows := []struct {
		name              string
		sessions, viewers int
	}{
		{"100 sessions x 1 viewer", 100, 1},
		{"1 session x 200 viewers", 1, 200},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			res, err := RunCapacity(context.Background(), CapacityConfig{Task: benchTask(), Sessions: row.sessions, Viewers: row.viewers, Hz: 20, Duration: d})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %v", benchTask(), res)
			if res.OverrunRate >= 0.001 {
				t.Errorf("overrun rate %.4f%%; target < 0.1%%", 100*res.OverrunRate)
			}
			if res.P99 > res.TickBudget {
				t.Errorf("p99 latency %v; target <= %v", res.P99, res.TickBudget)
			}
		})
	}
}

// BenchmarkFramePublish measures the fan-out's work per record with no
// client: the state check and encoding the shared frame.
//
//	go test ./web/ -run '^$' -bench FramePublish
func BenchmarkFramePublish(b *testing.B) {
	v, r := publishView(b)
	b.ReportAllocs()
	for b.Loop() {
		v.publish(r)
	}
}

// TestFramePublishAllocatesTwice: the fan-out allocates the shared frame
// and its body, sized from the previous body, and nothing else.
func TestFramePublishAllocatesTwice(t *testing.T) {
	v, r := publishView(t)
	v.publish(r)
	if n := testing.AllocsPerRun(100, func() { v.publish(r) }); n > 2 {
		t.Errorf("publish allocates %v times per record; want 2 (the frame and its body)", n)
	}
}

// publishView is a view of a dot session without its fan-out goroutine
// (publish runs in the caller) and a step record of a 12-body scene.
func publishView(tb testing.TB) (*view, *sim.Record) {
	srv, err := New(Config{Addr: "127.0.0.1:0", Task: "dot", Token: testToken, Clock: sim.NewManualClock(testStart),
		Catalog: dotCatalog{}, NoStore: true, NoDefaultSession: true, Log: io.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Shutdown(context.Background()) })
	sess, err := srv.hub.Create(live.Options{Task: "dot"})
	if err != nil {
		tb.Fatal(err)
	}
	v := &view{srv: srv, sess: sess, id: sess.ID(), spec: sess.Spec()}
	none := []*client{}
	v.all.Store(&none)
	r := &sim.Record{Kind: sim.StepRecord, Episode: 3, Wall: testStart, Return: -4.25}
	r.T, r.Reward, r.Source, r.Operator, r.PolicyVersion = 17, -0.125, sim.Human, "browser:alice", "expert"
	r.Holder, r.Mode = "browser:alice", sim.ModeShared
	for i := range 12 { // a manipulation scene's bodies
		r.Poses = append(r.Poses, sim.Pose{X: 0.1234567 * float64(i), Y: -0.7654321 * float64(i), Angle: 0.3141592 * float64(i)})
	}
	r.Action.Set([]float64{0.25, -0.5, 0.75})
	r.PolicyAction.Set([]float64{0.125, -0.375, 0.625})
	return v, r
}

// BenchmarkDecodeMsg measures decoding one operator command, the message
// a browser sends at its input rate.
func BenchmarkDecodeMsg(b *testing.B) {
	msg := []byte(`{"type":"command","seq":1234,"action":[0.25,-0.5,0.75],"engaged":true,"buttons":["grip"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeMsg(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFoxgloveSend measures turning one record into a Foxglove
// client's messages: its four channels subscribed once each (what
// Foxglove does), and MaxFoxSubs subscriptions spread over them (abuse).
func BenchmarkFoxgloveSend(b *testing.B) {
	sess := &view{spec: dotSpec, scene: (&dotTask{}).Scene()}
	kinds := []string{"scene", "state", "action", "events"}
	r := &sim.Record{Kind: sim.StepRecord, Episode: 3, Wall: testStart, Poses: []sim.Pose{{X: 1, Y: 2}, {X: 5, Y: 5, Angle: 0.25}}}
	r.T, r.Reward, r.Source = 17, -0.125, sim.Human
	r.Next.Set([]float64{1, 2, 5, 5})
	r.Action.Set([]float64{0.25, -0.5})
	for _, n := range []int{4, defaultMaxFoxSubs} {
		b.Run(strconv.Itoa(n)+" subscriptions", func(b *testing.B) {
			fc := &foxClient{subs: map[uint32]*foxChannel{}, sendQueue: newSendQueue(foxQueue, 0)}
			for i := range n {
				fc.subs[uint32(i+1)] = &foxChannel{sess: sess, kind: kinds[i%4]}
			}
			sc := newFoxScene(sess)
			b.ReportAllocs()
			for b.Loop() {
				fc.send(sc, r)
			}
		})
	}
}
