package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of what tandem keeps on the bus (docs/deploy.md lists them).
const (
	StepsStream     = "TANDEM_STEPS"       // limits retention, file storage
	StepsSubjects   = "tandem.steps.>"     // tandem.steps.<session>
	JobsStream      = "TANDEM_JOBS"        // work-queue retention
	JobsSubject     = "tandem.jobs"        // one subject: jobs are taken in order
	PoliciesBucket  = "tandem_policies"    // KV: current.<task>, version.<version>
	JobsBucket      = "tandem_jobs"        // KV: <job id> → JobStatus
	CheckpointStore = "tandem_checkpoints" // object store: <version>.safetensors, .card.json, .state.safetensors
)

// Defaults of Config's zero values.
const (
	DefaultStepsMaxAge   = 7 * 24 * time.Hour
	DefaultStepsMaxBytes = 4 << 30
	// DefaultDedupe is the steps stream's duplicate window: a step
	// republished within it (after a lost acknowledgement or a bus
	// outage) is stored once. Each message id costs about 140 B of server
	// memory for the window's length.
	DefaultDedupe           = 2 * time.Minute
	DefaultJobsMax          = 1000
	DefaultCheckpointsBytes = 2 << 30
	DefaultJobsTTL          = 24 * time.Hour
)

// Config configures a connection to the bus. Zero values mean defaults.
type Config struct {
	// URLs of an external NATS cluster, comma-separated. Empty: Embedded.
	URLs string
	// Embedded starts a server in this process when URLs is empty
	// (required then).
	Embedded *ServerConfig
	// Name identifies this client in the server's connection list.
	Name string
	// Replicas of every stream, bucket and object store this process
	// creates (1; 3 on a three-node cluster). Existing ones are used as
	// they are.
	Replicas int
	// StepsMaxAge and StepsMaxBytes bound the steps stream (7 days, 4
	// GiB; limits retention drops the oldest). Dedupe is its duplicate
	// window (DefaultDedupe, 30 s to 2 min suits).
	StepsMaxAge   time.Duration
	StepsMaxBytes int64
	Dedupe        time.Duration
	// JobsMax bounds the job queue (1000): a full queue refuses a job.
	JobsMax int64
	// CheckpointsMaxBytes bounds the checkpoint object store (2 GiB).
	CheckpointsMaxBytes int64
	// Logger receives connection changes and failures (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.StepsMaxAge == 0 {
		c.StepsMaxAge = DefaultStepsMaxAge
	}
	if c.StepsMaxBytes == 0 {
		c.StepsMaxBytes = DefaultStepsMaxBytes
	}
	if c.Dedupe == 0 {
		c.Dedupe = DefaultDedupe
	}
	if c.JobsMax == 0 {
		c.JobsMax = DefaultJobsMax
	}
	if c.CheckpointsMaxBytes == 0 {
		c.CheckpointsMaxBytes = DefaultCheckpointsBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.URLs == "" && c.Embedded == nil:
		return errors.New("bus: no URLs and no embedded server")
	case c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5:
		return fmt.Errorf("bus: replicas %d: want 1, 3 or 5", c.Replicas)
	case c.StepsMaxAge < time.Minute || c.StepsMaxBytes < 1<<20:
		return fmt.Errorf("bus: steps stream limits %v, %d B: want ≥ 1 min and ≥ 1 MiB", c.StepsMaxAge, c.StepsMaxBytes)
	case c.Dedupe < time.Second || c.Dedupe > c.StepsMaxAge:
		return fmt.Errorf("bus: duplicate window %v: want ≥ 1 s and within the steps' max age", c.Dedupe)
	case c.JobsMax < 1 || c.CheckpointsMaxBytes < 1<<20:
		return fmt.Errorf("bus: job queue %d, checkpoints %d B: want ≥ 1 and ≥ 1 MiB", c.JobsMax, c.CheckpointsMaxBytes)
	}
	return nil
}

// Bus is one process's connection to the bus: the embedded server when
// there is one, the NATS connection and JetStream. Its methods are safe
// for concurrent use.
type Bus struct {
	cfg Config
	srv *Server // nil with an external bus
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger

	ready    chan struct{} // closed once the streams and buckets exist
	stop     chan struct{}
	done     chan struct{}
	closeMu  sync.Mutex
	closed   bool
	kv, jobs jetstream.KeyValue // set before ready closes
	objects  jetstream.ObjectStore
	// epoch counts disconnections and reconnections: an acknowledgement
	// awaited across one never comes, so publishers republish at once.
	epoch atomic.Uint64
}

// Open starts the embedded server (when cfg has no URLs), connects, and
// makes sure the streams and buckets exist, in the background: an
// external bus that is down at start is retried until it answers, and
// every component waits for Ready. Open fails only on a bad config or an
// embedded server that does not start.
func Open(cfg Config) (*Bus, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, ready: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		// No client-side reconnect buffer: publishers keep their own
		// bounded buffer and republish what was not acknowledged, so a
		// publish while disconnected should fail at once.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.epoch.Add(1)
			if err != nil {
				b.log.Warn("bus disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.epoch.Add(1)
			b.log.Info("bus reconnected", "url", nc.ConnectedUrl())
		}),
	}
	url := cfg.URLs
	if url == "" {
		srv, err := StartServer(*cfg.Embedded)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		if url = srv.ClientURL(); url == "" {
			// In-process connections are a synchronous pipe: about half
			// the throughput of loopback TCP (docs/benchmarks.md), so
			// they are used only when the server has no listener.
			opts = append(opts, nats.InProcessServer(srv.NATS()))
		}
	} else {
		url = strings.Join(strings.Fields(strings.ReplaceAll(url, ",", " ")), ",")
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if b.srv != nil {
			b.srv.Shutdown()
		}
		return nil, fmt.Errorf("bus: connect %s: %w", cfg.URLs, err)
	}
	b.nc = nc
	b.js, err = jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(publishWindow),
		jetstream.WithPublishAsyncTimeout(publishTimeout))
	if err != nil {
		nc.Close()
		if b.srv != nil {
			b.srv.Shutdown()
		}
		return nil, err
	}
	go b.setup()
	return b, nil
}

// publishWindow is how many asynchronous publishes may await their
// acknowledgement (256: 50–59k msgs/s measured here); publishTimeout is
// when an unacknowledged one counts as failed and is republished.
const (
	publishWindow  = 256
	publishTimeout = 5 * time.Second
)

// setup creates the streams and buckets, retrying until the bus answers.
func (b *Bus) setup() {
	defer close(b.done)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		// A young cluster may sit on a request it cannot place yet;
		// asking again soon beats waiting long.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := b.ensure(ctx)
		cancel()
		if err == nil {
			close(b.ready)
			return
		}
		if attempt == 1 || attempt%20 == 0 {
			b.log.Warn("bus not ready; retrying", "err", err)
		}
		select {
		case <-b.stop:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// ensure creates what is missing; what exists is left as it is, so the
// first process to start sets the limits (docs/deploy.md).
func (b *Bus) ensure(ctx context.Context) error {
	c := &b.cfg
	if err := b.stream(ctx, jetstream.StreamConfig{
		Name: StepsStream, Subjects: []string{StepsSubjects}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: c.StepsMaxAge, MaxBytes: c.StepsMaxBytes, Duplicates: c.Dedupe, Replicas: c.Replicas,
		Description: "tandem: recorded episodes (begin, steps, labels, end), one subject per session",
	}); err != nil {
		return err
	}
	if err := b.stream(ctx, jetstream.StreamConfig{
		Name: JobsStream, Subjects: []string{JobsSubject}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, Discard: jetstream.DiscardNew, MaxMsgs: c.JobsMax,
		Duplicates: c.Dedupe, Replicas: c.Replicas,
		Description: "tandem: evaluation and rollout jobs for tandem work",
	}); err != nil {
		return err
	}
	var err error
	if b.kv, err = b.bucket(ctx, jetstream.KeyValueConfig{
		Bucket: PoliciesBucket, History: 16, Storage: jetstream.FileStorage, Replicas: c.Replicas,
		Description: "tandem: policy versions and each task's current version",
	}); err != nil {
		return err
	}
	if b.jobs, err = b.bucket(ctx, jetstream.KeyValueConfig{
		Bucket: JobsBucket, History: 1, TTL: DefaultJobsTTL, Storage: jetstream.FileStorage, Replicas: c.Replicas,
		Description: "tandem: job states and results",
	}); err != nil {
		return err
	}
	b.objects, err = b.js.ObjectStore(ctx, CheckpointStore)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		b.objects, err = b.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: CheckpointStore, Storage: jetstream.FileStorage, Replicas: c.Replicas, MaxBytes: c.CheckpointsMaxBytes,
			Description: "tandem: policy checkpoints (safetensors and card)",
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			b.objects, err = b.js.ObjectStore(ctx, CheckpointStore)
		}
	}
	if err != nil {
		return fmt.Errorf("object store %s: %w", CheckpointStore, err)
	}
	return nil
}

func (b *Bus) stream(ctx context.Context, cfg jetstream.StreamConfig) error {
	_, err := b.js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = b.js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			err = nil // another process created it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	return nil
}

func (b *Bus) bucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := b.js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = b.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = b.js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Ready is closed once the streams and buckets exist.
func (b *Bus) Ready() <-chan struct{} { return b.ready }

// WaitReady waits for Ready or ctx.
func (b *Bus) WaitReady(ctx context.Context) error {
	select {
	case <-b.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bus not ready: %w", ctx.Err())
	case <-b.stop:
		return ErrClosed
	}
}

// ErrClosed is returned by operations on a closed Bus.
var ErrClosed = errors.New("bus: closed")

// Server is the embedded server (nil with an external bus).
func (b *Bus) Server() *Server { return b.srv }

// Conn is the NATS connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream is the connection's JetStream context.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Connected reports whether the connection is up now.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// URL is where other processes reach this bus: the external URLs, or the
// embedded server's client URL ("" when it takes in-process connections
// only).
func (b *Bus) URL() string {
	if b.srv != nil {
		return b.srv.ClientURL()
	}
	return b.cfg.URLs
}

// Close drains the connection (pending acknowledgements and
// subscriptions finish) and shuts the embedded server down cleanly. Stop
// publishers, ingesters, watchers and workers first.
func (b *Bus) Close() error {
	b.closeMu.Lock()
	if b.closed {
		b.closeMu.Unlock()
		return nil
	}
	b.closed = true
	b.closeMu.Unlock()
	close(b.stop)
	<-b.done
	var err error
	if b.nc.IsConnected() {
		drained := make(chan struct{})
		b.nc.SetClosedHandler(func(*nats.Conn) { close(drained) })
		if err = b.nc.Drain(); err == nil {
			select {
			case <-drained:
			case <-time.After(5 * time.Second):
				b.nc.Close()
			}
		} else {
			b.nc.Close()
		}
	} else {
		b.nc.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
	}
	return err
}
