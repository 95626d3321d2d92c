// Package web is tandem's transport: the REST API under /api/, the session
// WebSocket protocol (docs/protocol.md), the Foxglove WebSocket endpoint
// (/foxglove), Prometheus metrics (/metrics, its own registry) and the
// embedded browser console (/). The sessions themselves live in package
// live; web owns a live.Hub and turns its sessions' records into messages.
//
// # Sessions and goroutines
//
// For each hub session web keeps a view: its WebSocket clients and one
// fan-out goroutine that reads the session's records from a
// sim.Subscription, encodes each as one frame (once, shared by every
// client) and pushes it to every client's queue. Frames and state messages
// are built from records alone: the holder, mode, pause, help, label and
// the acknowledged input of a frame are those of the tick that produced
// it. Each client has a reader (the HTTP handler goroutine) and a writer.
// Commands from operators go into a teleop.Latch that the arbiter samples
// at every sub-tick; control messages and one-shot button presses go to
// the session (live.Session.Press and friends) and take effect at the next
// tick or period.
//
// Nothing waits on a client: sim.Session drops the oldest record into a
// full subscription, and each client's sendQueue (Config.SendQueue
// messages; the same type, and the same writer loop, for session and
// Foxglove clients) drops its oldest data message when full, counting
// it; a client whose queue stays full for Config.SlowAfter of session
// time is disconnected (close 4000).
//
// # Acknowledgements
//
// A frame's "ack" is the newest command seq of that client that the tick
// applied: every record lists, per operator, the seq of the command the
// arbiter sampled (sim.Decision.Inputs), and each client's writer finds its
// own in the frame it writes. An ack never claims a command the tick did
// not see.
//
// # Time
//
// Sessions run on Config.Clock (the wall clock, or a sim.ManualClock in
// tests); frame wall times, the slow-client rule and the tick metrics use
// it. Keepalive pings and write deadlines use the real clock: they are
// about the network.
//
// # Locks
//
// Server.mu guards the view table, the closing flag and the Adds of the
// exports' and WebSocket clients' wait groups (a handler counts itself
// before its upgrade, so none is counted after Shutdown waits); view.mu guards a view's client set, counts and idle state;
// a sendQueue's mutex guards its ring; foxClient.mu guards a Foxglove
// client's subscriptions; connLimiter.mu guards the connection counts and
// idle lists; hostGuard.mu its interface address cache. Order: Server.mu,
// then view.mu, then a queue's mutex; foxClient.mu is never held while
// taking view.mu; connLimiter.mu and hostGuard.mu are leaves. The fan-out
// holds none of them while it encodes, and none is held while calling
// into live (which has its own order, see package live).
//
// # Idle sessions
//
// See idle.go: a live session made through the API with no client for
// its idle delay (session clock) is paused, and an operator connecting
// resumes it (a viewer does not); a session with a simulated operator
// counts as attended and is never paused; a replay with no client for
// Config.ReplayIdle is deleted.
//
// # Allocation
//
// A frame body is encoded with hand-written appenders (appendFrame) into a
// buffer sized from the previous frame: two allocations per tick per
// session (the frame and its body, TestFramePublishAllocatesTwice), none
// per client; each writer appends its own dropped/ack tail
// from a reused buffer.
//
// # Security
//
// docs/security.md is the threat model and the table of limits. Operator
// actions need the token (Authorization: Bearer on REST, ?token= on
// WebSockets). Without a token a request is a viewer, which is only
// allowed when the server listens on a loopback address. Every request's
// Host must name the server (hosts.go: DNS rebinding), WebSocket upgrades
// check Origin too. The listener bounds connections overall and per
// address with a reserve for health checks and the token (conns.go);
// timeouts bound requests and idle connections. Request bodies are capped
// (Config.MaxBody), WebSocket messages too (Config.MaxMessage refused with
// an error, 1 MiB closes the connection); per session, viewers and
// operators have separate caps; control messages are rate limited per
// client (ratelimit.go). Exports pass a gate (exportgate.go: viewer
// permission, concurrency, a real DATA/exports directory, a pace) and
// stream (exports.go: one episode in memory; MCAP never touches the disk,
// LeRobot's tar entries each pass through one temporary file inside the
// data directory). GET /api/episodes answers in pages with a cursor
// (store.go). Shutdown is bounded (shutdown.go).
// Repeated warnings are logged once per 10 s with a count (logs.go).
package web
