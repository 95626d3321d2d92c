package web

import (
	"context"
	"fmt"
	"time"
)

// ShutdownError reports recorded steps that did not reach the store when
// the server stopped: tandem serve exits non-zero with it, and only with
// it.
type ShutdownError struct {
	UnsavedSteps int
	Reason       string // the recorder's last error, if any
}

func (e *ShutdownError) Error() string {
	msg := fmt.Sprintf("%d recorded steps could not be saved before the shutdown deadline", e.UnsavedSteps)
	if e.Reason != "" {
		msg += " (last store error: " + e.Reason + ")"
	}
	return msg
}

// maxGrace bounds how long requests in flight may finish at shutdown
// before their connections are closed.
const maxGrace = 2 * time.Second

// Shutdown stops the server by ctx's deadline (Run gives it
// Config.ShutdownTimeout, 10 s), doing in parallel:
//
//   - HTTP: the listener closes, requests in flight get a grace of a
//     quarter of the time left (at most 2 s), then every connection is
//     closed and request contexts end: a download in flight is abandoned
//     and its export's temporary files removed;
//   - sessions: each stops at a tick boundary (its clients closed with
//     1001) and its recording flushes, all at once, not one after another.
//
// Then the store closes. It returns nil when every recorded step reached
// the store (a slow client or an abandoned download loses no data: they
// are logged), else a *ShutdownError saying how many steps did not.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.mu.Unlock()
	if s.stopIdle != nil {
		close(s.stopIdle)
	}
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		s.closeHTTP(ctx)
	}()
	hubErr := s.hub.Close(ctx)
	s.stopWatch()
	s.fox.close()
	s.waitFor(ctx, "HTTP connections to close", func() { <-httpDone })
	s.waitFor(ctx, "WebSocket clients to close", s.clientsWG.Wait)
	s.waitFor(ctx, "export downloads to end", s.exportsWG.Wait)
	s.cleanExports()
	var unsaved int
	var reason string
	if rec := s.hub.Recorder(); rec != nil {
		st := rec.Stats()
		unsaved, reason = st.PendingSteps, st.LastError
	}
	if s.store != nil {
		// The store closes once its writer is done; a writer stuck on a
		// full disk past the deadline gets one more second.
		done := make(chan error, 1)
		go func() { done <- s.store.Close() }()
		select {
		case err := <-done:
			if err != nil {
				s.log.Error("closing the store", "err", err)
			}
		case <-time.After(time.Second):
			s.log.Error("the store did not close within a second of the shutdown deadline")
		}
	}
	if unsaved > 0 {
		return &ShutdownError{UnsavedSteps: unsaved, Reason: reason}
	}
	if hubErr != nil {
		s.log.Warn("shutdown", "err", hubErr)
	}
	return nil
}

// closeHTTP stops serving HTTP: the listener closes at once, requests in
// flight get the grace, then their connections are closed.
func (s *Server) closeHTTP(ctx context.Context) {
	if s.http == nil {
		return
	}
	grace := maxGrace
	if dl, ok := ctx.Deadline(); ok {
		grace = min(grace, time.Until(dl)/4)
	}
	gctx, cancel := context.WithTimeout(ctx, grace)
	err := s.http.Shutdown(gctx)
	cancel()
	s.cancelReqs()
	if err != nil {
		s.http.Close() // abandons downloads in flight
		s.log.Info("shutdown: closed connections still busy after the grace", "grace", grace.String())
	}
}

// waitFor runs wait until it returns or ctx ends, logging the latter.
func (s *Server) waitFor(ctx context.Context, what string, wait func()) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("shutdown: deadline passed waiting for " + what)
	}
}
