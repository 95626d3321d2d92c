package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"tandem/policies"
	"tandem/sim"
	"time"

	"github.com/gorilla/websocket"
)

// CapacityConfig describes a capacity run: Sessions sessions of Task at Hz,
// each watched by Viewers WebSocket viewers, for Duration of wall time.
type CapacityConfig struct {
	Task     string        // default DefaultTask
	Sessions int           // default 1
	Viewers  int           // per session, default 1
	Hz       float64       // tick rate, default 20
	Duration time.Duration // default 5 s
	Catalog  Catalog       // default the tasks registry
}

// CapacityResult is what a capacity run measured. Latency is from a tick
// (its frame's wall time, ms resolution) to a viewer reading the frame.
type CapacityResult struct {
	Sessions, Clients   int
	Ticks, Overruns     uint64
	OverrunRate         float64 // overruns / (ticks + overruns)
	Frames, Dropped     uint64  // frames read by viewers; frames dropped by send queues
	P50, P99, Max       time.Duration
	TickBudget          time.Duration // one tick + 5 ms, the latency target
	MeanTickWork        time.Duration // mean loop wake-up duration
	RejectedOrKicked    uint64
	FramesPerSessionSec float64
}

func (r CapacityResult) String() string {
	return fmt.Sprintf("%d sessions, %d viewers: ticks %d, overruns %d (%.4f%%), frames read %d, dropped %d, latency p50 %v p99 %v max %v (target p99 <= %v), mean tick work %v",
		r.Sessions, r.Clients, r.Ticks, r.Overruns, 100*r.OverrunRate, r.Frames, r.Dropped,
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.TickBudget,
		r.MeanTickWork.Round(time.Microsecond))
}

// RunCapacity starts an in-process server on 127.0.0.1:0 with the wall
// clock, creates the sessions, connects the viewers and measures.
func RunCapacity(ctx context.Context, cfg CapacityConfig) (CapacityResult, error) {
	if cfg.Task == "" {
		cfg.Task = DefaultTask
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 1
	}
	if cfg.Viewers <= 0 {
		cfg.Viewers = 1
	}
	if cfg.Hz <= 0 {
		cfg.Hz = 20
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", Task: cfg.Task, NoDefaultSession: true, NoStore: true, Log: io.Discard,
		Catalog: cfg.Catalog, MaxSessions: cfg.Sessions + 1, MaxViewers: cfg.Viewers + 1})
	if err != nil {
		return CapacityResult{}, err
	}
	if err := srv.Start(); err != nil {
		return CapacityResult{}, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	var ids []string
	for range cfg.Sessions {
		info, err := srv.CreateSession(SessionOptions{Task: cfg.Task, Mode: string(sim.ModeAuto), Policy: policies.Expert, ControlHz: cfg.Hz})
		if err != nil {
			return CapacityResult{}, err
		}
		ids = append(ids, info.ID)
	}
	res := CapacityResult{Sessions: cfg.Sessions, Clients: cfg.Sessions * cfg.Viewers,
		TickBudget: time.Duration(float64(time.Second)/cfg.Hz) + 5*time.Millisecond}

	var mu sync.Mutex
	var lats []time.Duration
	var frames uint64
	measuring := make(chan struct{})
	var wg sync.WaitGroup
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for _, id := range ids {
		for range cfg.Viewers {
			u := url.URL{Scheme: "ws", Host: srv.Addr(), Path: "/api/sessions/" + id + "/ws"}
			c, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
			if err != nil {
				return res, err
			}
			conns = append(conns, c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, 256)
				var n uint64
				on := false
				for {
					_, b, err := c.ReadMessage()
					now := time.Now()
					if err != nil {
						break
					}
					if !on {
						select {
						case <-measuring:
							on = true
						default:
							continue
						}
					}
					if wall, ok := frameWall(b); ok {
						local = append(local, now.Sub(time.UnixMilli(wall)))
						n++
					}
				}
				mu.Lock()
				lats = append(lats, local...)
				frames += n
				mu.Unlock()
			}()
		}
	}
	// Warm up, then measure over Duration.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	t0, o0 := srv.tickTotals()
	w0, n0 := tickWork(srv)
	d0 := srv.droppedTotal()
	close(measuring)
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	t1, o1 := srv.tickTotals()
	w1, n1 := tickWork(srv)
	res.Dropped = srv.droppedTotal() - d0
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	conns = nil
	res.Ticks, res.Overruns = t1-t0, o1-o0
	if res.Ticks+res.Overruns > 0 {
		res.OverrunRate = float64(res.Overruns) / float64(res.Ticks+res.Overruns)
	}
	if n1 > n0 {
		res.MeanTickWork = time.Duration((w1 - w0) / float64(n1-n0) * float64(time.Second))
	}
	res.Frames = frames
	if len(lats) == 0 {
		return res, errors.New("no frames received")
	}
	slices.Sort(lats)
	res.P50, res.P99, res.Max = lats[len(lats)/2], lats[len(lats)*99/100], lats[len(lats)-1]
	res.FramesPerSessionSec = float64(frames) / float64(res.Clients) / cfg.Duration.Seconds()
	return res, nil
}

// frameWall extracts a frame's "wall" (Unix ms) without decoding it.
func frameWall(b []byte) (int64, bool) {
	if !bytes.HasPrefix(b, []byte(`{"type":"frame"`)) {
		return 0, false
	}
	i := bytes.Index(b, []byte(`"wall":`))
	if i < 0 {
		return 0, false
	}
	j := i + len(`"wall":`)
	k := j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	v, err := strconv.ParseInt(string(b[j:k]), 10, 64)
	return v, err == nil
}

// tickTotals sums ticks and overruns over live sessions.
func (s *Server) tickTotals() (ticks, overruns uint64) {
	for _, v := range s.viewList() {
		in := v.sess.Info()
		ticks += in.Ticks
		overruns += in.Overruns
	}
	return ticks, overruns
}

func (s *Server) droppedTotal() uint64 {
	var n uint64
	for _, sess := range s.viewList() {
		for _, c := range *sess.all.Load() {
			n += c.dropped.Load()
		}
	}
	return n
}

// tickWork reads the tick-duration histogram's sum and count.
func tickWork(s *Server) (sum float64, count uint64) {
	mfs, err := s.metrics.reg.Gather()
	if err != nil {
		return 0, 0
	}
	for _, mf := range mfs {
		if mf.GetName() != "tandem_tick_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			sum += h.GetSampleSum()
			count += h.GetSampleCount()
		}
	}
	return sum, count
}
