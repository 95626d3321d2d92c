package demos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] takes the schema from version i to i+1. Append only: a
// released migration is never edited.
var migrations = []string{
	// 1: sessions, episodes, steps.
	`
CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL,            -- live session id, or "rollout", "import"
	task       TEXT    NOT NULL,
	started_at INTEGER NOT NULL,            -- Unix ns
	info       TEXT    NOT NULL DEFAULT '{}'
);
CREATE TABLE episodes (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id     INTEGER NOT NULL REFERENCES sessions(id),
	task           TEXT    NOT NULL,
	task_version   INTEGER NOT NULL,
	seed           INTEGER NOT NULL,        -- uint64 bit pattern
	mode           TEXT    NOT NULL,        -- teleop | auto | shared | replay | import
	operators      TEXT    NOT NULL DEFAULT '',  -- comma-separated, order of appearance
	policy_version TEXT    NOT NULL DEFAULT '',  -- comma-separated, order of appearance
	control_hz     REAL    NOT NULL,
	spec           TEXT    NOT NULL,        -- sim.Spec as JSON
	started_at     INTEGER NOT NULL,        -- Unix ns
	ended_at       INTEGER,                 -- Unix ns; NULL while running
	outcome        TEXT    NOT NULL DEFAULT 'running', -- running|success|failure|timeout|cut|crashed
	length         INTEGER NOT NULL DEFAULT 0,
	return         REAL    NOT NULL DEFAULT 0,
	success        INTEGER NOT NULL DEFAULT 0,
	interventions  INTEGER NOT NULL DEFAULT 0,
	tags           TEXT    NOT NULL DEFAULT '',
	note           TEXT    NOT NULL DEFAULT '',
	complete       INTEGER NOT NULL DEFAULT 0,  -- ended cleanly with every step stored
	dropped        INTEGER NOT NULL DEFAULT 0,  -- steps lost before reaching the disk
	initial_obs    BLOB,                    -- float64 LE
	final_obs      BLOB                     -- float64 LE, observation after the last step
);
CREATE INDEX episodes_task ON episodes(task, started_at);
CREATE INDEX episodes_outcome ON episodes(outcome);
CREATE TABLE steps (
	episode_id         INTEGER NOT NULL REFERENCES episodes(id),
	t                  INTEGER NOT NULL,
	obs                BLOB    NOT NULL,    -- float64 LE, observation the action was chosen from
	action             BLOB    NOT NULL,    -- float64 LE, executed (clamped) action
	policy_action      BLOB,                -- float64 LE, what the policy proposed; NULL if none ran
	source             TEXT    NOT NULL,    -- demo | robot | human
	reward             REAL    NOT NULL,
	terminal           INTEGER NOT NULL,
	truncated          INTEGER NOT NULL,
	success            INTEGER NOT NULL,
	wall               INTEGER NOT NULL,    -- Unix ns
	operator           TEXT    NOT NULL DEFAULT '',
	policy_version     TEXT    NOT NULL DEFAULT '',
	intervention_start INTEGER NOT NULL DEFAULT 0,
	intervention_end   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (episode_id, t)
);
`,
}

// SchemaVersion is the schema version this binary writes.
var SchemaVersion = len(migrations)

// ErrSchemaTooNew is returned by Open for a database written by a newer
// tandem; it is left untouched.
var ErrSchemaTooNew = errors.New("demos: database schema is newer than this tandem")

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("demos: read schema version: %w", err)
	}
	return v, nil
}

// migrate brings db to SchemaVersion, one transaction per migration.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	for {
		v, err := schemaVersion(ctx, db)
		if err != nil {
			return err
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w: %s has schema version %d, this binary knows up to %d; upgrade tandem", ErrSchemaTooNew, path, v, SchemaVersion)
		}
		if v == SchemaVersion {
			return nil
		}
		if err := applyMigration(ctx, db, v); err != nil {
			return err
		}
	}
}

func applyMigration(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Re-check inside the write transaction: another process may have
	// migrated meanwhile.
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v != from {
		return nil
	}
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return fmt.Errorf("demos: migration to schema %d: %w", from+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return err
	}
	return tx.Commit()
}
