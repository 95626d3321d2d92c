package demos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DBName is the database file inside the data directory.
const DBName = "tandem.db"

// lockName is the writers' flock file inside the data directory.
const lockName = "tandem.lock"

// Options adjusts Open. The zero value opens for writing.
type Options struct {
	// ReadOnly opens an existing database for reading only: no lock, no
	// migration, no crash recovery. It fails if the database does not exist.
	ReadOnly bool
}

// Store is the demonstration store. Safe for concurrent use.
type Store struct {
	db       *sql.DB
	dir      string
	path     string
	readOnly bool
	lock     *os.File

	mu        sync.Mutex // guards recovered, ingest
	recovered int
	ingest    *ingestStmts // prepared once, at the first Ingest
}

// Open opens (creating if needed) the store in data directory dir.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	path := filepath.Join(dir, DBName)
	s := &Store{dir: dir, path: path, readOnly: opts.ReadOnly}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("demos: no store in %s: %w", dir, err)
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("demos: data directory: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_txlock", "immediate")
	if opts.ReadOnly {
		q.Add("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// NORMAL in WAL mode: a committed transaction survives a process
		// crash; only an OS crash or power loss can lose the last ones.
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("demos: open %s: %w", path, err)
	}
	s.db = db
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("demos: open %s: %w", s.path, err)
	}
	if s.readOnly {
		v, err := schemaVersion(ctx, s.db)
		if err != nil {
			return err
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w: %s has schema version %d, this binary knows up to %d; upgrade tandem", ErrSchemaTooNew, s.path, v, SchemaVersion)
		}
		if v < SchemaVersion {
			return fmt.Errorf("demos: %s has schema version %d; open it once for writing to migrate to %d", s.path, v, SchemaVersion)
		}
		return nil
	}
	if err := migrate(ctx, s.db, s.path); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("demos: lock file: %w", err)
	}
	s.lock = lock
	alone, err := tryLockExclusive(lock)
	if err != nil {
		return fmt.Errorf("demos: lock: %w", err)
	}
	if alone {
		// No other writer is alive: whatever is still running was cut by a
		// crash.
		n, rerr := s.recoverCrashed(ctx)
		if err := lockShared(lock); err != nil {
			return fmt.Errorf("demos: lock: %w", err)
		}
		if rerr != nil {
			return rerr
		}
		s.mu.Lock()
		s.recovered = n
		s.mu.Unlock()
		return nil
	}
	if err := lockShared(lock); err != nil {
		return fmt.Errorf("demos: lock: %w", err)
	}
	return nil
}

// recoverCrashed marks episodes left running by a dead process as crashed
// and recomputes their summaries from the steps that reached the disk.
func (s *Store) recoverCrashed(ctx context.Context) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("demos: recover crashed episodes: %w", err)
	}
	defer tx.Rollback()
	// Operators and policy versions, ordered by the step they first acted in.
	for _, kind := range []string{nameOperator, namePolicy} {
		col := map[string]string{nameOperator: "operator", namePolicy: "policy_version"}[kind]
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO episode_names (episode_id, kind, ord, name)
SELECT episode_id, ?, min(t), `+col+` FROM steps
WHERE `+col+` != '' AND episode_id IN (SELECT id FROM episodes WHERE outcome = 'running')
GROUP BY episode_id, `+col, kind); err != nil {
			return 0, fmt.Errorf("demos: recover crashed episodes: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `
UPDATE episodes SET
	outcome = 'crashed',
	complete = 0,
	length = (SELECT count(*) FROM steps WHERE episode_id = episodes.id),
	return = (SELECT total(reward) FROM steps WHERE episode_id = episodes.id),
	success = coalesce((SELECT max(success) FROM steps WHERE episode_id = episodes.id), 0),
	interventions = (SELECT count(*) FROM steps WHERE episode_id = episodes.id AND intervention_start = 1),
	ended_at = coalesce((SELECT max(wall) FROM steps WHERE episode_id = episodes.id), started_at),
	mode = CASE WHEN mode != '' THEN mode
		WHEN EXISTS (SELECT 1 FROM steps WHERE episode_id = episodes.id AND source = 'human') THEN 'shared'
		WHEN EXISTS (SELECT 1 FROM steps WHERE episode_id = episodes.id AND source = 'robot') THEN 'auto'
		ELSE 'teleop' END
WHERE outcome = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("demos: recover crashed episodes: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("demos: recover crashed episodes: %w", err)
	}
	return int(n), nil
}

// Recovered reports how many running episodes Open marked as crashed.
func (s *Store) Recovered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// DB exposes the database for read-only queries by tools and tests.
func (s *Store) DB() *sql.DB { return s.db }

// IntegrityCheck runs PRAGMA integrity_check and returns nil when it says ok.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("demos: integrity check: %v", msgs)
}

// Close closes the database and releases the writer lock.
func (s *Store) Close() error {
	var errs []error
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close()) // closing releases the lock
	}
	return errors.Join(errs...)
}

func (s *Store) writable() error {
	if s.readOnly {
		return errors.New("demos: store is open read-only")
	}
	return nil
}
