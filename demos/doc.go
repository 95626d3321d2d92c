// Package demos records, stores, labels, replays and exports what happened in
// tandem's sessions: every step with who was in control.
//
// # Store
//
// Store is an embedded SQLite database (modernc.org/sqlite, pure Go) in WAL
// mode at DIR/tandem.db. Its schema is versioned with PRAGMA user_version;
// migrations run at Open inside one transaction each, and a database written
// by a newer tandem is refused (ErrSchemaTooNew), never altered. The schema
// and the guarantees are documented for researchers in docs/storage.md.
//
// Vectors (observations, actions, policy actions) are stored as
// little-endian float64 blobs, 8 bytes per value, so that a stored
// observation is bit-for-bit the value the simulation produced and replay can
// compare it exactly. Times are Unix nanoseconds (INTEGER). Seeds are uint64
// stored in SQLite's signed 64-bit INTEGER by bit pattern.
//
// Steps store the observation the action was chosen from; the observation
// after the last step is kept on the episode (final_obs). Step.Next is filled
// on read from the following step. An episode's operators and policy
// versions are rows of episode_names (any text); its uid identifies it
// across stores, so importing an export twice stores nothing twice.
//
// # Labels
//
// An episode's mode is a sim.Mode, the session mode it ran in (read at its
// first step); every write path refuses another. A step's source is demo
// (a demonstrator, mode teleop), robot (the policy's action) or human (an
// intervention in shared mode); its operator names who produced a demo or
// human step, its policy version the policy that acted or proposed. A
// scripted expert run as a policy is a policy (robot steps, version
// "expert"). docs/storage.md ("What the labels mean") is the reference;
// migration 5 relabelled stores written before.
//
// # Filters and exports
//
// ParseFilter is the one parser of episode filters (the CLI's flags and the
// REST API's query parameters). Exports stream (exportread.go): the
// selection is fixed in one snapshot, then each episode is read whole in
// its own short read transaction and written out, so memory holds one
// episode, no read transaction outlives an episode, and a recorder
// writing meanwhile never makes an export inconsistent; Filter.Ended
// leaves running episodes out. A LeRobot export writes one dataset per
// task, task version and control rate, to a directory or as a tar.gz
// stream whose files pass through a temporary file each (lerobotsink.go).
//
// # Writers and crash safety
//
// Every write is a transaction; nothing is rewritten in place except the
// episode summary row. A process that opens the store for writing holds a
// shared lock on DIR/tandem.lock (flock on Unix, LockFileEx on Windows,
// none elsewhere: store_lock_*.go); the one that finds no other writer alive
// (it gets the lock exclusively) marks episodes still "running" as
// "crashed" (incomplete, kept with every committed step) before it
// downgrades to shared. So restarting on the same directory just continues,
// and two writer processes (a server and a rollout --record) can share it.
//
// # Recorder
//
// Recorder subscribes to live sessions. Each session has a reader goroutine
// that converts Records into rows in memory (never touching the disk) and a
// single writer goroutine commits pending rows at least every
// CommitInterval (100 ms): after a crash, every step that reached the
// recorder more than max(interval, last commit) + the commit in flight ago
// is on disk (docs/storage.md, tested by TestCrashSafety). The simulation loop is never blocked:
// sim.Session drops into a full subscription rather than wait, and the
// recorder's reader only appends to a bounded in-memory queue. When the
// queue is full (disk too slow or failing), new steps are dropped, counted
// per episode, and the episode is flagged incomplete; a failed commit is
// retried with the same rows until it succeeds or the queue bound is hit.
// An episode's row is queued with its first step (or label, or dropped
// step), not at its reset: an episode reset before any step is not
// stored at all, so a reset flood writes nothing.
//
// # Headless rollouts
//
// Recorder.Rollout records a sim.Stream's finished episodes as they come:
// RolloutRecording.Add queues each episode as one block of rows, which the
// writer commits whole in one transaction, in order. Add waits while the
// queue holds MaxPending steps rather than dropping, so a headless producer
// runs at the disk's pace in bounded memory.
//
// # Goroutines and allocation
//
// Store is safe for concurrent use. Recorder's methods are safe for
// concurrent use. Player's Decide runs on its session's loop goroutine; its
// control methods are safe for concurrent use. Recording allocates one row
// per step in the reader goroutine, off the simulation loop.
package demos
