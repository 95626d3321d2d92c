// Package bus carries tandem's data between processes over NATS JetStream:
// recorded steps from the processes that record them (serve, work) to the
// ones that learn from them (learn), policy versions from learners to every
// process that acts, and evaluation and rollout jobs to workers. Nothing
// here is home-made transport: JetStream streams, key-value buckets and an
// object store do the carrying; this package decides what goes where.
//
// # Embedded or external
//
// A Bus is one process's connection. With Config.URLs it connects to an
// external NATS cluster; without, it starts an embedded server in the
// process (StartServer: JetStream on, files under the data directory,
// explicit memory and storage limits) so a single binary needs nothing
// else. An embedded server may listen for other processes, and join a
// cluster (the `tandem bus` role runs one alone). Open never waits for an
// external bus: it retries in the background until the streams and
// buckets exist, and everything that needs them waits for Ready.
//
// # What lives on the bus
//
//	TANDEM_STEPS        stream, subjects tandem.steps.<session>: the rows a
//	                    recorder queues (demos.Row: begin, step, label, end),
//	                    JSON, message id <episode uid>-<t> (-begin, -label,
//	                    -end); file storage, limits retention (max age, max
//	                    bytes), a duplicate window of 2 minutes.
//	TANDEM_JOBS         stream, subject tandem.jobs: jobs for workers;
//	                    work-queue retention, bounded, discard new (a full
//	                    queue refuses a job).
//	tandem_policies     KV: version.<version> the stored version's row,
//	                    current.<task> the task's current version.
//	tandem_checkpoints  object store: <version>.safetensors, .card.json
//	                    and, for a learner with state, .state.safetensors.
//	tandem_jobs         KV: <job id> the job's state and result (1 day).
//
// The first process to start creates what is missing with its limits;
// existing streams and buckets are used as they are.
//
// # Delivery
//
// Steps are published at least once and stored exactly once. A Publisher
// (a demos.Recorder's Tap) encodes each row and appends it to a bounded
// in-memory buffer, never blocking the recorder, let alone a session's
// tick; one goroutine publishes asynchronously with a window of
// acknowledgements outstanding and, after any failure, republishes from
// the first unacknowledged row, so a bus outage or a leader election
// (4–9 s on a replicated stream) only delays rows. The stream's duplicate
// window drops republished rows it already holds. An Ingester (a durable
// pull consumer with explicit acknowledgements) stores each batch in one
// transaction with demos.Store.Ingest, idempotent by episode uid and
// (uid, t), and acknowledges only after the commit: a learner that dies
// loses nothing and a redelivery duplicates nothing.
//
// # Policies and jobs
//
// A learner publishes a version (PublishVersion: checkpoint, card and, for
// a learner with state, its state file to the object store, then the row)
// and promotes it (SetCurrent). A Mirror copies every version into its
// process's store, checking the checkpoint against the row's sha256, and
// promotes there what the bus promotes, telling its caller, who switches
// sessions at their next episode boundary. Jobs go through a work-queue
// stream bounded in size; workers share one durable pull consumer, fetch
// only for free slots and report progress, so only a dead worker's job
// moves to another; states and results live in a KV bucket.
//
// # Where it sits
//
// bus sits beside live: it imports demos (rows, the store), policies
// (evaluation results, version files) and sim, never live or web; live
// does not import bus. cmd wires them: the recorder's tap to a Publisher,
// a Mirror's promotions to live.Hub.FollowPromotions, an Ingester and
// live.StartOnline on one store in `tandem learn`.
//
// # Goroutines
//
// Publisher, Ingester and the watchers each run one goroutine; their
// methods and Bus's are safe for concurrent use. Close them before the
// Bus; Bus.Close drains the connection and then shuts the embedded server
// down cleanly (a clustered node hands its stream leaderships over).
package bus
