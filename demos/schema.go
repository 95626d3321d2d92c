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
	// 2: a stable identity per episode (kept through export and import, so
	// an import can recognise episodes the store already holds), and the
	// operators and policy versions of an episode as rows instead of
	// comma-separated text (ids may contain commas).
	`
ALTER TABLE episodes ADD COLUMN uid TEXT NOT NULL DEFAULT '';
UPDATE episodes SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX episodes_uid ON episodes(uid);
CREATE TABLE episode_names (
	episode_id INTEGER NOT NULL REFERENCES episodes(id),
	kind       TEXT    NOT NULL,            -- operator | policy_version
	ord        INTEGER NOT NULL,            -- sorts names in order of first appearance
	name       TEXT    NOT NULL,
	PRIMARY KEY (episode_id, kind, name)
);
CREATE INDEX episode_names_name ON episode_names(kind, name);
INSERT OR IGNORE INTO episode_names (episode_id, kind, ord, name)
WITH RECURSIVE split(episode_id, kind, ord, name, rest) AS (
	SELECT id, 'operator', -1, '', operators || ',' FROM episodes WHERE operators != ''
	UNION ALL
	SELECT id, 'policy_version', -1, '', policy_version || ',' FROM episodes WHERE policy_version != ''
	UNION ALL
	SELECT episode_id, kind, ord + 1, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
	FROM split WHERE rest != ''
)
SELECT episode_id, kind, ord, name FROM split WHERE ord >= 0 AND name != '';
ALTER TABLE episodes DROP COLUMN operators;
ALTER TABLE episodes DROP COLUMN policy_version;
`,
	// 3: live sessions record one step per control period and apply human
	// input at sub-ticks inside it: a step keeps the sub-tick commands that
	// re-execute it exactly, and whether help was raised; an episode keeps
	// its sub-tick rate and an operator's success or failure label.
	`
ALTER TABLE steps ADD COLUMN subticks BLOB;
ALTER TABLE steps ADD COLUMN help INTEGER NOT NULL DEFAULT 0;
ALTER TABLE episodes ADD COLUMN teleop_hz REAL NOT NULL DEFAULT 0;
ALTER TABLE episodes ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE episodes ADD COLUMN label_by TEXT NOT NULL DEFAULT '';
`,
	// 4: learned policy versions and the promotion history that says which
	// version is current for each task (the learners' registry).
	`
CREATE TABLE policies (
	version    TEXT    PRIMARY KEY,          -- e.g. reach-bc-3
	task       TEXT    NOT NULL,
	algo       TEXT    NOT NULL,
	parent     TEXT    NOT NULL DEFAULT '',  -- the version it was warm-started from
	created_at INTEGER NOT NULL,             -- Unix ns
	path       TEXT    NOT NULL,             -- checkpoint, relative to the data directory
	digest     TEXT    NOT NULL,             -- sha256 of the checkpoint file, hex
	card       TEXT    NOT NULL,             -- the checkpoint's JSON card
	eval       TEXT    NOT NULL DEFAULT '{}',-- evaluation results (JSON)
	note       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX policies_task ON policies(task, created_at);
CREATE TABLE promotions (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	task    TEXT    NOT NULL,
	version TEXT    NOT NULL REFERENCES policies(version),
	at      INTEGER NOT NULL,                -- Unix ns
	reason  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX promotions_task ON promotions(task, id);
`,
	// 5: one meaning per label (docs/storage.md, "What the labels mean").
	// (a) The scripted expert of `tandem rollout --policy expert` was stored
	// as a demonstration (mode teleop, source demo, operator "expert", no
	// policy version). It is a policy: mode auto, source robot, policy
	// version "expert", no operator; its proposal is the executed action
	// (the unclamped one was not kept). (b) Episodes of sessions whose row
	// says they ran shared but that were stored as auto (nobody
	// intervened) become shared. (c) Modes that are not session modes
	// ("replay", "import", or empty) become the mode the steps' sources
	// imply.
	`
CREATE TEMP TABLE m3_expert AS
SELECT e.id, e.session_id FROM episodes e
WHERE e.mode = 'teleop'
	AND EXISTS (SELECT 1 FROM episode_names n WHERE n.episode_id = e.id AND n.kind = 'operator' AND n.name = 'expert')
	AND NOT EXISTS (SELECT 1 FROM episode_names n WHERE n.episode_id = e.id AND n.kind = 'operator' AND n.name != 'expert')
	AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.episode_id = e.id AND (s.source != 'demo' OR s.operator != 'expert'));
UPDATE steps SET source = 'robot', operator = '', policy_version = 'expert', policy_action = coalesce(policy_action, action)
WHERE episode_id IN (SELECT id FROM m3_expert);
UPDATE episodes SET mode = 'auto' WHERE id IN (SELECT id FROM m3_expert);
DELETE FROM episode_names WHERE kind = 'operator' AND episode_id IN (SELECT id FROM m3_expert);
INSERT OR IGNORE INTO episode_names (episode_id, kind, ord, name) SELECT id, 'policy_version', 0, 'expert' FROM m3_expert;
UPDATE sessions SET info = json_set(info, '$.mode', 'auto')
WHERE name = 'rollout' AND json_valid(info) AND json_extract(info, '$.mode') = 'teleop'
	AND id IN (SELECT session_id FROM m3_expert);
DROP TABLE m3_expert;
UPDATE episodes SET mode = 'shared'
WHERE mode = 'auto' AND session_id IN (SELECT id FROM sessions WHERE json_valid(info) AND json_extract(info, '$.mode') = 'shared');
UPDATE episodes SET mode = CASE
	WHEN EXISTS (SELECT 1 FROM steps s WHERE s.episode_id = episodes.id AND s.source = 'robot')
		AND EXISTS (SELECT 1 FROM steps s WHERE s.episode_id = episodes.id AND s.source = 'human') THEN 'shared'
	WHEN EXISTS (SELECT 1 FROM steps s WHERE s.episode_id = episodes.id AND s.source = 'robot') THEN 'auto'
	WHEN EXISTS (SELECT 1 FROM steps s WHERE s.episode_id = episodes.id AND s.source = 'human')
		AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.episode_id = episodes.id AND s.source = 'demo') THEN 'shared'
	ELSE 'teleop' END
WHERE mode NOT IN ('teleop', 'auto', 'shared') AND outcome != 'running';
`,
	// 6: a simulated expert's label per step (what it would have done,
	// queried at every step whether or not it acted): DAgger relabels
	// visited states with it.
	`
ALTER TABLE steps ADD COLUMN expert_action BLOB;
`,
}

// Kinds of episode_names rows.
const (
	nameOperator = "operator"
	namePolicy   = "policy_version"
)

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
