package demos

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"tandem/sim"
)

// IngestStatus says what Store.Ingest did with one row.
type IngestStatus uint8

// Ingest outcomes.
const (
	// Ingested: the row is stored now.
	Ingested IngestStatus = iota
	// Duplicate: the store already held it (a redelivery); nothing changed.
	Duplicate
	// Waiting: the row's episode has not begun in this store yet (its begin
	// row arrives later); deliver it again after the begin.
	Waiting
)

func (s IngestStatus) String() string {
	switch s {
	case Ingested:
		return "ingested"
	case Duplicate:
		return "duplicate"
	case Waiting:
		return "waiting"
	}
	return fmt.Sprintf("IngestStatus(%d)", uint8(s))
}

// ErrBadRow marks a row that can never be stored (malformed); a transport
// should drop it rather than deliver it again.
var ErrBadRow = errors.New("demos: malformed row")

// Ingest stores rows another process recorded (Recorder's Tap at the
// origin) in one transaction, idempotently: an episode is known by its UID
// and a step by (UID, t), so rows delivered twice, or in another order
// than they were made, leave the store as if each came once and in order.
// A step, label or end whose begin has not arrived is reported Waiting and
// not stored. A begin names a session row by its name at the origin; rows
// of one origin session share one session row here. Ended episodes take
// the end row's summary; a running one's length counts the steps stored
// so far; an episode whose end arrived before some of its steps lists
// fewer steps than its length until they come (live.Episodes leaves such
// episodes out). On error nothing is stored.
//
// statuses has one entry per row. A malformed row fails the whole call
// with an error wrapping ErrBadRow and naming the row's index, so the
// caller can drop it and retry the rest.
func (s *Store) Ingest(ctx context.Context, rows []Row) (statuses []IngestStatus, err error) {
	if err := s.writable(); err != nil {
		return nil, err
	}
	for i := range rows {
		if err := checkRow(&rows[i]); err != nil {
			return nil, &BadRowError{Index: i, Err: err}
		}
	}
	stmts, err := s.ingestStatements(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("demos: ingest: %w", err)
	}
	defer tx.Rollback()
	in := ingest{tx: tx, st: stmts, ids: map[string]int64{}, sessions: map[string]int64{}}
	statuses = make([]IngestStatus, len(rows))
	grown := map[int64]bool{} // episodes that got steps
	for i := range rows {
		if statuses[i], err = in.row(ctx, &rows[i]); err != nil {
			return nil, err
		}
		if rows[i].Kind == RowStep && statuses[i] == Ingested {
			grown[in.ids[rows[i].UID]] = true
		}
	}
	// An episode still running shows its progress, as the recorder's do.
	for id := range grown {
		if _, err := in.stmt(ctx, stmts.progress).ExecContext(ctx, id, id); err != nil {
			return nil, fmt.Errorf("demos: ingest: episode %d progress: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("demos: ingest: commit: %w", err)
	}
	return statuses, nil
}

// BadRowError reports the malformed row Ingest refused.
type BadRowError struct {
	Index int
	Err   error
}

func (e *BadRowError) Error() string {
	return fmt.Sprintf("%v: row %d: %v", ErrBadRow, e.Index, e.Err)
}

func (e *BadRowError) Unwrap() []error { return []error{ErrBadRow, e.Err} }

func checkRow(r *Row) error {
	if r.UID == "" || len(r.UID) > 128 {
		return errors.New("uid must be 1-128 characters")
	}
	switch r.Kind {
	case RowBegin:
		b := r.Begin
		if b == nil || b.Session == "" || b.Task == "" || !(b.ControlHz > 0) || !json.Valid(b.Spec) {
			return errors.New("begin needs a session, a task, a control rate and a JSON spec")
		}
		if b.Mode != "" {
			if err := checkMode(b.Mode); err != nil {
				return err
			}
		}
		return checkTags(b.Tags)
	case RowStep:
		st := r.Step
		if st == nil || st.T < 0 || len(st.Obs) == 0 || len(st.Action) == 0 {
			return errors.New("step needs t ≥ 0, an observation and an action")
		}
		switch st.Source {
		case sim.Demo, sim.Robot, sim.Human, "":
		default:
			return fmt.Errorf("unknown source %q", st.Source)
		}
	case RowLabel:
		if r.Label == nil || (r.Label.Outcome != sim.LabelSuccess && r.Label.Outcome != sim.LabelFailure) {
			return errors.New("label needs outcome success or failure")
		}
	case RowEnd:
		e := r.End
		if e == nil || e.Length < 0 || e.Dropped < 0 {
			return errors.New("end needs a length and a dropped count ≥ 0")
		}
		switch e.Outcome {
		case Succeeded, Failed, Timeout, Cut, Crashed:
		default:
			return fmt.Errorf("end outcome %q", e.Outcome)
		}
		if e.Mode != "" {
			if err := checkMode(e.Mode); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown row kind %q", r.Kind)
	}
	return nil
}

// ingestStmts are Ingest's statements, prepared once per store: a
// learner ingests many small batches, and parsing them each time cost
// more than running them.
type ingestStmts struct {
	episode, begin, step, end, name, progress *sql.Stmt
}

func (s *Store) ingestStatements(ctx context.Context) (*ingestStmts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ingest != nil {
		return s.ingest, nil
	}
	st := &ingestStmts{}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.episode, `SELECT id FROM episodes WHERE uid = ?`},
		{&st.begin, beginSQL},
		{&st.step, "INSERT OR IGNORE INTO steps (" + stepCols + ") VALUES " + stepValues},
		{&st.end, endSQL},
		{&st.name, `INSERT OR IGNORE INTO episode_names (episode_id, kind, ord, name) VALUES (?,?,?,?)`},
		{&st.progress, `UPDATE episodes SET length = (SELECT count(*) FROM steps WHERE episode_id = ?) WHERE id = ? AND outcome = 'running'`},
	} {
		var err error
		if *p.dst, err = s.db.PrepareContext(ctx, p.query); err != nil {
			return nil, fmt.Errorf("demos: ingest: %w", err)
		}
	}
	s.ingest = st
	return st, nil
}

// ingest is one Ingest transaction.
type ingest struct {
	tx       *sql.Tx
	st       *ingestStmts
	ids      map[string]int64 // uid → episode id, found or made in this transaction
	sessions map[string]int64 // session name → row id
	txStmts  map[*sql.Stmt]*sql.Stmt
}

// stmt is a prepared statement in the transaction.
func (in *ingest) stmt(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	if t, ok := in.txStmts[st]; ok {
		return t
	}
	if in.txStmts == nil {
		in.txStmts = map[*sql.Stmt]*sql.Stmt{}
	}
	t := in.tx.StmtContext(ctx, st)
	in.txStmts[st] = t
	return t
}

// episode returns the id of the episode uid (0 if this store has none).
func (in *ingest) episode(ctx context.Context, uid string) (int64, error) {
	if id, ok := in.ids[uid]; ok {
		return id, nil
	}
	var id int64
	err := in.stmt(ctx, in.st.episode).QueryRowContext(ctx, uid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("demos: ingest: episode %s: %w", uid, err)
	}
	in.ids[uid] = id
	return id, nil
}

// session returns the id of the session row named name, making one.
func (in *ingest) session(ctx context.Context, b *EpisodeBegin) (int64, error) {
	if id, ok := in.sessions[b.Session]; ok {
		return id, nil
	}
	var id int64
	err := in.tx.QueryRowContext(ctx, `SELECT id FROM sessions WHERE name = ? ORDER BY id DESC LIMIT 1`, b.Session).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		info, _ := json.Marshal(map[string]any{"mode": b.Mode, "control_hz": b.ControlHz, "ingested": true})
		res, err := in.tx.ExecContext(ctx, `INSERT INTO sessions (name, task, started_at, info) VALUES (?,?,?,?)`,
			b.Session, b.Task, b.Start.UnixNano(), string(info))
		if err != nil {
			return 0, fmt.Errorf("demos: ingest: session %q: %w", b.Session, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, fmt.Errorf("demos: ingest: session %q: %w", b.Session, err)
	}
	in.sessions[b.Session] = id
	return id, nil
}

func (in *ingest) row(ctx context.Context, r *Row) (IngestStatus, error) {
	if r.Kind == RowBegin {
		return in.beginRow(ctx, r)
	}
	id, err := in.episode(ctx, r.UID)
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return Waiting, nil
	}
	switch r.Kind {
	case RowStep:
		st := in.stmt(ctx, in.st.step)
		row := rowOfStep(r.Step)
		res, err := st.ExecContext(ctx, id, row.t, row.obs, row.act, row.pol, row.source, row.reward,
			row.terminal, row.truncated, row.success, row.wall, row.operator, row.version, row.ivStart, row.ivEnd,
			row.subticks, row.help, row.expert)
		if err != nil {
			return 0, fmt.Errorf("demos: ingest: episode %s step %d: %w", r.UID, r.Step.T, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Duplicate, nil
		}
		return Ingested, nil
	case RowLabel:
		res, err := in.tx.ExecContext(ctx, `UPDATE episodes SET label = ?, label_by = ? WHERE id = ? AND (label IS NOT ? OR label_by IS NOT ?)`,
			r.Label.Outcome, r.Label.By, id, r.Label.Outcome, r.Label.By)
		if err != nil {
			return 0, fmt.Errorf("demos: ingest: label episode %s: %w", r.UID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Duplicate, nil // the episode already carries this label
		}
		return Ingested, nil
	case RowEnd:
		e := r.End
		// An end already applied (the same end time) is a redelivery.
		var ended sql.NullInt64
		if err := in.tx.QueryRowContext(ctx, `SELECT ended_at FROM episodes WHERE id = ?`, id).Scan(&ended); err != nil {
			return 0, fmt.Errorf("demos: ingest: end episode %s: %w", r.UID, err)
		}
		if ended.Valid && ended.Int64 == e.End.UnixNano() {
			return Duplicate, nil
		}
		st := in.stmt(ctx, in.st.end)
		mode := string(e.Mode)
		if _, err := st.ExecContext(ctx, e.End.UnixNano(), string(e.Outcome), e.Length, e.Return, e.Success, e.Interventions,
			mode, mode, e.Complete, e.Dropped, blob(e.FinalObs), id); err != nil {
			return 0, fmt.Errorf("demos: ingest: end episode %s: %w", r.UID, err)
		}
		ns := in.stmt(ctx, in.st.name)
		for kind, names := range map[string][]string{nameOperator: e.Operators, namePolicy: e.PolicyVersions} {
			for i, n := range names {
				if _, err := ns.ExecContext(ctx, id, kind, i, n); err != nil {
					return 0, fmt.Errorf("demos: ingest: episode %s %s %q: %w", r.UID, kind, n, err)
				}
			}
		}
		return Ingested, nil
	}
	return 0, fmt.Errorf("%w: kind %q", ErrBadRow, r.Kind)
}

func (in *ingest) beginRow(ctx context.Context, r *Row) (IngestStatus, error) {
	id, err := in.episode(ctx, r.UID)
	if err != nil {
		return 0, err
	}
	if id != 0 {
		return Duplicate, nil
	}
	b := r.Begin
	sid, err := in.session(ctx, b)
	if err != nil {
		return 0, err
	}
	res, err := in.stmt(ctx, in.st.begin).ExecContext(ctx, r.UID, sid, b.Task, b.TaskVersion, int64(b.Seed), string(b.Mode), b.ControlHz, b.TeleopHz,
		string(b.Spec), b.Start.UnixNano(), blob(b.InitialObs), joinList(b.Tags), b.Note)
	if err != nil {
		return 0, fmt.Errorf("demos: ingest: begin episode %s: %w", r.UID, err)
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, err
	}
	in.ids[r.UID] = id
	return Ingested, nil
}
