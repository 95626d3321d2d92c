// Package web is tandem's server: the REST API under /api/, the session
// WebSocket protocol (docs/protocol.md), the Foxglove WebSocket endpoint
// (/foxglove), Prometheus metrics (/metrics, its own registry) and the
// embedded browser console (/).
//
// # Sessions and goroutines
//
// Each live session owns three kinds of goroutine. The loop goroutine runs
// sim.Session.Run and is the only one that touches the task; the arbiter's
// Decide and ackController run there. The fan-out goroutine reads the
// session's records from a sim.Subscription, encodes each as one frame
// (once, shared by every client) and pushes it to every client's queue.
// Each client has a reader (the HTTP handler goroutine) and a writer.
// Commands from operators go into a teleop.Latch that the arbiter samples
// once per tick; control messages are queued on the session (sim.Session
// commands run at the start of the next tick).
//
// Nothing waits on a client: sim.Session drops the oldest record into a full
// subscription, and each client's send queue (Config.SendQueue messages)
// drops its oldest frame when full, counting it; a client whose queue stays
// full for Config.SlowAfter of session time is disconnected (close 4000).
//
// # Acknowledgements
//
// A frame's "ack" is the newest command seq of that client that the loop
// had sampled when it computed the frame's step: ackController notes each
// operator's seq (read from an atomic written after the latch) before the
// arbiter samples the latches, keyed by episode and step, and the writer
// looks the key up. An ack never claims a command the step did not see.
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
// Server.mu guards the session table; session.mu guards a session's client
// set; client.qmu guards a client's queue. Order: Server.mu, then
// session.mu, then client.qmu; none is held while calling the arbiter or
// the store.
//
// # Allocation
//
// A frame body is encoded with hand-written appenders (appendFrame) into a
// buffer sized from the previous frame: one allocation per tick per
// session, none per client; each writer appends its own dropped/ack tail
// from a reused buffer.
//
// # Security
//
// Operator actions need the token (Authorization: Bearer on REST, ?token=
// on WebSockets). Without a token a request is a viewer, which is only
// allowed when the server listens on a loopback address. WebSocket upgrades
// check Origin (absent, same host, or loopback). Request bodies are capped
// (Config.MaxBody), WebSocket messages too (Config.MaxMessage refused with
// an error, 1 MiB closes the connection), and exports are written inside
// the data directory only.
package web
