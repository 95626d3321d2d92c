package demos

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tandem/sim"
)

// opKind orders what the writer does with a queued row.
type opKind uint8

const (
	opBegin opKind = iota + 1
	opStep
	opEnd
	opLabel
)

// op is one queued write. key identifies the episode inside the writer
// (recorder-local); the database id is assigned when its begin commits.
type op struct {
	kind  opKind
	key   int64
	begin *beginRow
	step  stepRow
	end   *endRow
	label *sim.Label
}

type beginRow struct {
	uid         string
	sessionID   int64
	task        string
	taskVersion int
	seed        uint64
	mode        string
	controlHz   float64
	teleopHz    float64
	spec        string
	start       int64
	initialObs  []byte
	tags, note  string
}

type stepRow struct {
	t                   int
	obs, act, pol       []byte
	source              string
	reward              float64
	terminal, truncated bool
	success             bool
	wall                int64
	operator, version   string
	ivStart, ivEnd      bool
	subticks            []byte
	help                bool
	expert              []byte
	count               int     // steps stored in the episode including this one
	ret                 float64 // episode return after this step
	interventions       int     // interventions so far
	anySuccess          bool    // success at any step so far
}

type endRow struct {
	end       int64
	outcome   Outcome
	length    int
	ret       float64
	success   bool
	interv    int
	operators []string // in order of first appearance
	versions  []string
	mode      string // replaces the begin's mode when non-empty
	complete  bool
	dropped   int
	finalObs  []byte
}

// stepCols lists the steps columns in insert order.
const stepCols = "episode_id, t, obs, action, policy_action, source, reward, terminal, truncated, success, wall, operator, policy_version, intervention_start, intervention_end, subticks, help, expert_action"

const nStepCols = 18

// rowsPerInsert is how many steps one multi-row INSERT carries; 64 × 18 =
// 1152 parameters, well under SQLite's 32766 limit.
const rowsPerInsert = 64

// stepValues is one step's row of parameters in an INSERT.
var stepValues = "(" + strings.Repeat("?,", nStepCols-1) + "?)"

func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO steps (" + stepCols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(stepValues)
	}
	return b.String()
}

// insertSQLs holds the INSERT of 64, 16, 4 and 1 rows.
var insertSQLs = map[int]string{
	rowsPerInsert: insertSQL(rowsPerInsert), 16: insertSQL(16), 4: insertSQL(4), 1: insertSQL(1),
}

// commit writes ops (blocks of rows, in order) in one transaction. ids maps writer keys of episodes
// begun in earlier commits to database ids; on success it is updated (new
// episodes added, ended ones removed). On error nothing is written and ids
// is unchanged, so the same ops can be retried. onBegin, if not nil, hears
// each new episode's key and id after the commit.
func (s *Store) commit(ctx context.Context, ops [][]op, ids map[int64]int64, onBegin func(key, id int64)) error {
	if err := s.writable(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("demos: begin: %w", err)
	}
	defer tx.Rollback()
	w := batch{tx: tx, ids: ids, local: map[int64]int64{}, ended: map[int64]bool{}, last: map[int64]*stepRow{}}
	for _, block := range ops {
		if err := w.run(ctx, block); err != nil {
			return err
		}
	}
	if err := w.finish(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demos: commit: %w", err)
	}
	for k, id := range w.local {
		ids[k] = id
		if onBegin != nil {
			onBegin(k, id)
		}
	}
	for k := range w.ended {
		delete(ids, k)
	}
	return nil
}

type batch struct {
	tx    *sql.Tx
	ids   map[int64]int64
	local map[int64]int64
	ended map[int64]bool
	last  map[int64]*stepRow
	stmts map[int]*sql.Stmt // prepared multi-row inserts by row count
	name  *sql.Stmt
	begin *sql.Stmt // beginSQL, prepared once per transaction
	end   *sql.Stmt // endSQL
	args  []any

	pending  []*op
	lastKey  int64
	lastStep *stepRow
}

func (w *batch) id(key int64) (int64, error) {
	if id, ok := w.local[key]; ok {
		return id, nil
	}
	if id, ok := w.ids[key]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("demos: internal error: step for episode key %d with no begin", key)
}

func (w *batch) flush(ctx context.Context) error {
	err := w.insertSteps(ctx, w.pending)
	w.pending = w.pending[:0]
	return err
}

func (w *batch) run(ctx context.Context, ops []op) error {
	for i := range ops {
		o := &ops[i]
		switch o.kind {
		case opBegin:
			b := o.begin
			st, err := w.prepared(ctx, &w.begin, beginSQL)
			if err != nil {
				return err
			}
			res, err := st.ExecContext(ctx,
				b.uid, b.sessionID, b.task, b.taskVersion, int64(b.seed), b.mode, b.controlHz, b.teleopHz, b.spec, b.start, b.initialObs, b.tags, b.note)
			if err != nil {
				return fmt.Errorf("demos: insert episode: %w", err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			w.local[o.key] = id
		case opStep:
			w.pending = append(w.pending, o)
			if w.lastKey != o.key && w.lastStep != nil {
				w.last[w.lastKey] = w.lastStep
			}
			w.lastKey, w.lastStep = o.key, &o.step
			if len(w.pending) >= rowsPerInsert*16 {
				if err := w.flush(ctx); err != nil {
					return err
				}
			}
		case opLabel:
			id, err := w.id(o.key)
			if err != nil {
				return err
			}
			if _, err := w.tx.ExecContext(ctx, `UPDATE episodes SET label = ?, label_by = ? WHERE id = ?`,
				o.label.Outcome, o.label.By, id); err != nil {
				return fmt.Errorf("demos: label episode %d: %w", id, err)
			}
		case opEnd:
			// The episode's last steps may still be pending: they go into
			// the next multi-row insert with whatever follows (the summary
			// update needs only the episode's id, not its rows).
			if w.lastStep != nil && w.lastKey == o.key {
				w.lastStep = nil
			}
			id, err := w.id(o.key)
			if err != nil {
				return err
			}
			e := o.end
			st, err := w.prepared(ctx, &w.end, endSQL)
			if err != nil {
				return err
			}
			_, err = st.ExecContext(ctx,
				e.end, string(e.outcome), e.length, e.ret, e.success, e.interv,
				e.mode, e.mode, e.complete, e.dropped, e.finalObs, id)
			if err != nil {
				return fmt.Errorf("demos: end episode %d: %w", id, err)
			}
			if err := w.names(ctx, id, nameOperator, e.operators); err != nil {
				return err
			}
			if err := w.names(ctx, id, namePolicy, e.versions); err != nil {
				return err
			}
			w.ended[o.key] = true
			delete(w.last, o.key)
		}
	}
	return nil
}

// names stores an episode's operators or policy versions, in order.
func (w *batch) names(ctx context.Context, id int64, kind string, names []string) error {
	if len(names) > 0 && w.name == nil {
		var err error
		if w.name, err = w.tx.PrepareContext(ctx, `INSERT OR IGNORE INTO episode_names (episode_id, kind, ord, name) VALUES (?,?,?,?)`); err != nil {
			return err
		}
	}
	for i, n := range names {
		if _, err := w.name.ExecContext(ctx, id, kind, i, n); err != nil {
			return fmt.Errorf("demos: episode %d %s %q: %w", id, kind, n, err)
		}
	}
	return nil
}

// finish inserts the remaining steps and records the progress of episodes
// still running.
func (w *batch) finish(ctx context.Context) error {
	if err := w.flush(ctx); err != nil {
		return err
	}
	if w.lastStep != nil {
		w.last[w.lastKey] = w.lastStep
	}
	for k := range w.ended {
		delete(w.last, k)
	}
	// Progress of episodes still running, so listings and a crash see
	// current counts.
	for key, st := range w.last {
		id, err := w.id(key)
		if err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(ctx, `UPDATE episodes SET length = ?, return = ?, interventions = ?, success = ? WHERE id = ?`,
			st.count, st.ret, st.interventions, st.anySuccess, id); err != nil {
			return fmt.Errorf("demos: episode %d progress: %w", id, err)
		}
	}
	return nil
}

func (w *batch) insertSteps(ctx context.Context, rows []*op) error {
	for len(rows) > 0 {
		n := rowsPerInsert
		for n > len(rows) {
			n /= 4 // 64, 16, 4, 1: a short tail takes few statements
		}
		w.args = w.args[:0]
		for _, o := range rows[:n] {
			id, err := w.id(o.key)
			if err != nil {
				return err
			}
			st := &o.step
			w.args = append(w.args, id, st.t, st.obs, st.act, st.pol, st.source, st.reward,
				st.terminal, st.truncated, st.success, st.wall, st.operator, st.version, st.ivStart, st.ivEnd,
				st.subticks, st.help, st.expert)
		}
		stmt, err := w.stmt(ctx, n)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, w.args...); err != nil {
			return fmt.Errorf("demos: insert steps: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// beginSQL inserts an episode row; endSQL stores its end.
const (
	beginSQL = `INSERT INTO episodes
	(uid, session_id, task, task_version, seed, mode, control_hz, teleop_hz, spec, started_at, initial_obs, tags, note)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`
	endSQL = `UPDATE episodes SET
	ended_at = ?, outcome = ?, length = ?, return = ?, success = ?, interventions = ?,
	mode = CASE WHEN ? = '' THEN mode ELSE ? END,
	complete = ?, dropped = ?, final_obs = ?
	WHERE id = ?`
)

// prepared returns *st, preparing query in the transaction the first time.
func (w *batch) prepared(ctx context.Context, st **sql.Stmt, query string) (*sql.Stmt, error) {
	if *st == nil {
		var err error
		if *st, err = w.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	return *st, nil
}

func (w *batch) stmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st := w.stmts[n]; st != nil {
		return st, nil
	}
	st, err := w.tx.PrepareContext(ctx, insertSQLs[n])
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = map[int]*sql.Stmt{}
	}
	w.stmts[n] = st
	return st, nil
}

// newSession inserts a session row and returns its id.
func (s *Store) newSession(ctx context.Context, name, task string, start time.Time, info any) (int64, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	js, err := json.Marshal(info)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO sessions (name, task, started_at, info) VALUES (?,?,?,?)`,
		name, task, start.UnixNano(), string(js))
	if err != nil {
		return 0, fmt.Errorf("demos: insert session: %w", err)
	}
	return res.LastInsertId()
}

// stepRowOf converts a step record into a row.
func stepRowOf(r *sim.Record, wall time.Time, operator string) stepRow {
	op := r.Operator
	if op == "" && r.Source != sim.Robot {
		op = operator
	}
	src := r.Source
	if src == "" {
		src = sim.Robot
	}
	// One allocation for the three vectors.
	obs, act, pol := r.Obs.Slice(), r.Action.Slice(), r.PolicyAction.Slice()
	buf := make([]byte, 0, 8*(len(obs)+len(act)+len(pol)))
	buf = encodeVec(buf, obs)
	buf = encodeVec(buf, act)
	buf = encodeVec(buf, pol)
	no, na := 8*len(obs), 8*(len(obs)+len(act))
	row := stepRow{
		t:         r.T,
		obs:       buf[:no:no],
		act:       buf[no:na:na],
		source:    string(src),
		reward:    r.Reward,
		terminal:  r.Terminal,
		truncated: r.Truncated,
		success:   r.Success,
		wall:      wall.UnixNano(),
		operator:  op,
		version:   r.PolicyVersion,
		ivStart:   r.InterventionStart,
		ivEnd:     r.InterventionEnd,
		help:      r.Help,
	}
	if len(pol) > 0 {
		row.pol = buf[na:]
	}
	if r.Subticks != nil {
		row.subticks = blob(r.Subticks)
	}
	if r.ExpertAction.Len() > 0 {
		row.expert = blob(r.ExpertAction.Slice())
	}
	return row
}
