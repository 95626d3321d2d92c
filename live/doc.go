// Package live is tandem's application core: the hub of live sessions in
// one process, their lifecycle, their arbiters and devices, the link to
// the recorder, and policy hot swap. Transports (package web's REST,
// WebSocket and Foxglove endpoints) sit on top of it; every stream they
// serve is a subscriber of a session's records.
//
// # Records, not state
//
// A session publishes one immutable sim.Record per tick: who held
// authority and in which mode, whether it was paused, which operator
// inputs the tick applied, help, labels. Viewers, metrics, force feedback
// and the recorder read records; nothing reads a session's mutable state
// to describe a tick. Info (for REST listings) is not a tick: it takes
// authority, mode, help and policy version from the newest record, and
// pause, episode, seed, t, label and the tick counters from the loop's
// state snapshot (sim.Session.State), which stays current while a paused
// session publishes nothing (one record when it pauses, none after); the
// two may be a tick apart.
//
// # Buttons
//
// Device buttons and console buttons take one path: teleop requests that
// the session honours. A device's buttons are sampled by the arbiter at
// every sub-tick; a console's presses are queued with Session.Press. The
// arbiter turns presses into asks (reset, success, failure, help
// acknowledgement) and sim.Session honours them at the tick they arrive:
// a reset cuts the episode and starts the next, a label is stored on the
// episode, an acknowledgement clears the help request. Grip closes the
// jaw inside the arbiter. Force feedback runs the other way: a device
// with force feedback gets a subscriber that renders the task's contact
// forces (scaled by sim.ForceScaler, times Config.HapticGain, never above
// Config.HapticCap) and a rumble when help is raised.
//
// # Online learning and other processes
//
// Online is the online trainer: a hub runs one for its learning sessions
// (StartLearning), and `tandem learn` runs one with no hub (StartOnline),
// on the episodes package bus brings into its store. live does not import
// bus: cmd wires them. The bus mirrors each task's current version into
// the process's store, and calling FollowPromotions switches the sessions
// that follow the policy Current at their next episode boundary, as a
// local promotion does.
//
// # Goroutines and locks
//
// Each session has its loop goroutine (sim.Session.Run), the only one that
// touches its task. Hub.mu guards the session table, the reservations
// and the id counter (a session being built holds a reservation that
// counts against MaxSessions, so concurrent creations cannot pass it);
// Hub.devMu guards the device table; Session.mu guards a session's policy
// names. Lock order: Hub.mu, then Hub.devMu, then Session.mu; none is
// held while calling into a session's loop, the arbiter or the store.
// Every exported method is safe for concurrent use.
//
// Numbers from outside are validated once, here or in sim: rates by
// sim.Spec.CheckRates, replay speeds by CheckReplaySpeed; a RangeError
// names the field for the transports.
package live
