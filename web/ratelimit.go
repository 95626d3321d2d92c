package web

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst saved.
// Not safe for concurrent use (a client's reader owns its bucket; the
// REST limiter wraps one in a mutex).
type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newBucket(rate float64) bucket {
	return bucket{rate: rate, burst: 2 * rate, tokens: 2 * rate}
}

// take spends one token if there is one at now.
func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// syncBucket is a bucket safe for concurrent use.
type syncBucket struct {
	mu sync.Mutex
	b  bucket
}

func (s *syncBucket) take(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.take(now)
}
