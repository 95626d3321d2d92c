package demos

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tandem/sim"
)

// ErrNotFound is returned for an episode id that is not in the store.
var ErrNotFound = errors.New("demos: no such episode")

// hasName selects episodes with an episode_names row of a kind and name.
const hasName = "EXISTS (SELECT 1 FROM episode_names n WHERE n.episode_id = episodes.id AND n.kind = ? AND n.name = ?)"

// namesOf is the JSON array of an episode's names of one kind, in order.
func namesOf(kind string) string {
	return "(SELECT json_group_array(name ORDER BY ord) FROM episode_names n WHERE n.episode_id = episodes.id AND n.kind = '" + kind + "')"
}

var episodeCols = `id, uid, session_id, task, task_version, seed, mode, ` + namesOf(nameOperator) + `, ` + namesOf(namePolicy) + `, control_hz,
	spec, started_at, coalesce(ended_at, 0), outcome, length, return, success, interventions, tags, note,
	complete, dropped, initial_obs, final_obs, teleop_hz, label, label_by`

func scanEpisode(sc interface{ Scan(...any) error }) (Episode, error) {
	var e Episode
	var seed, start, end int64
	var ops, vers, spec, tags string
	var init, final []byte
	err := sc.Scan(&e.ID, &e.UID, &e.SessionID, &e.Task, &e.TaskVersion, &seed, &e.Mode, &ops, &vers, &e.ControlHz,
		&spec, &start, &end, &e.Outcome, &e.Length, &e.Return, &e.Success, &e.Interventions, &tags, &e.Note,
		&e.Complete, &e.Dropped, &init, &final, &e.TeleopHz, &e.Label, &e.LabelBy)
	if err != nil {
		return e, err
	}
	e.Seed = uint64(seed)
	if err := json.Unmarshal([]byte(ops), &e.Operators); err != nil {
		return e, fmt.Errorf("demos: episode %d operators: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(vers), &e.PolicyVersion); err != nil {
		return e, fmt.Errorf("demos: episode %d policy versions: %w", e.ID, err)
	}
	e.Tags = splitList(tags)
	e.Start = time.Unix(0, start).UTC()
	if end != 0 {
		e.End = time.Unix(0, end).UTC()
	}
	if err := json.Unmarshal([]byte(spec), &e.Spec); err != nil {
		return e, fmt.Errorf("demos: episode %d spec: %w", e.ID, err)
	}
	if e.InitialObs, err = decodeVec(init); err != nil {
		return e, err
	}
	if e.FinalObs, err = decodeVec(final); err != nil {
		return e, err
	}
	return e, nil
}

// querier is what reads need: the database, or one read transaction (a
// snapshot).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// snapshot begins a read transaction: every read through it sees the
// store as of its first read, whatever writers commit meanwhile (WAL
// mode). Exports read through one, so an export is one consistent picture
// of the store. The caller rolls it back.
func (s *Store) snapshot(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("demos: begin read: %w", err)
	}
	return tx, nil
}

// ListEpisodes returns the episodes f selects, in id order (newest first
// with f.Desc).
func (s *Store) ListEpisodes(ctx context.Context, f Filter) ([]Episode, error) {
	return listEpisodes(ctx, s.db, f)
}

func listEpisodes(ctx context.Context, db querier, f Filter) ([]Episode, error) {
	q, args := f.query(episodeCols)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("demos: list episodes: %w", err)
	}
	defer rows.Close()
	out := []Episode{}
	for rows.Next() {
		e, err := scanEpisode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Episode returns one episode's summary.
func (s *Store) Episode(ctx context.Context, id int64) (Episode, error) {
	return episodeOf(ctx, s.db, id)
}

func episodeOf(ctx context.Context, db querier, id int64) (Episode, error) {
	e, err := scanEpisode(db.QueryRowContext(ctx, "SELECT "+episodeCols+" FROM episodes WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	return e, err
}

// Steps returns the stored steps of episode id in order, with Next filled
// from the following step (and the episode's final observation).
func (s *Store) Steps(ctx context.Context, id int64) ([]Step, error) {
	ep, err := s.Episode(ctx, id)
	if err != nil {
		return nil, err
	}
	return stepsOf(ctx, s.db, &ep)
}

// StepsOf is Steps for an episode whose summary the caller holds (from
// ListEpisodes or Episode): it reads the steps without reading the summary
// again.
func (s *Store) StepsOf(ctx context.Context, ep *Episode) ([]Step, error) {
	return stepsOf(ctx, s.db, ep)
}

func stepsOf(ctx context.Context, db querier, ep *Episode) ([]Step, error) {
	rows, err := db.QueryContext(ctx, `SELECT t, obs, action, policy_action, source, reward, terminal, truncated,
	success, wall, operator, policy_version, intervention_start, intervention_end, subticks, help, expert_action
	FROM steps WHERE episode_id = ? ORDER BY t`, ep.ID)
	if err != nil {
		return nil, fmt.Errorf("demos: steps of episode %d: %w", ep.ID, err)
	}
	defer rows.Close()
	out := make([]Step, 0, ep.Length)
	for rows.Next() {
		var st Step
		var obs, act, pol, subs, expert []byte
		var src string
		var wall int64
		if err := rows.Scan(&st.T, &obs, &act, &pol, &src, &st.Reward, &st.Terminal, &st.Truncated,
			&st.Success, &wall, &st.Operator, &st.PolicyVersion, &st.InterventionStart, &st.InterventionEnd, &subs, &st.Help, &expert); err != nil {
			return nil, err
		}
		st.Source, st.Wall = sim.Source(src), time.Unix(0, wall).UTC()
		if st.Obs, err = decodeVec(obs); err != nil {
			return nil, err
		}
		if st.Action, err = decodeVec(act); err != nil {
			return nil, err
		}
		if st.PolicyAction, err = decodeVec(pol); err != nil {
			return nil, err
		}
		if st.Subticks, err = decodeVec(subs); err != nil {
			return nil, err
		}
		if st.ExpertAction, err = decodeVec(expert); err != nil {
			return nil, err
		}
		if n := len(st.Action); len(st.Subticks) > 0 && (n == 0 || len(st.Subticks)%n != 0) {
			return nil, fmt.Errorf("demos: episode %d step %d: %d sub-tick values for %d actions", ep.ID, st.T, len(st.Subticks), n)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if i+1 < len(out) {
			out[i].Next = out[i+1].Obs
		} else {
			out[i].Next = ep.FinalObs
		}
	}
	return out, nil
}

// Annotate replaces an episode's tags and note.
func (s *Store) Annotate(ctx context.Context, id int64, tags []string, note string) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, "UPDATE episodes SET tags = ?, note = ? WHERE id = ?", joinList(tags), note, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	return nil
}

// checkTags refuses tags the comma-separated tags column cannot hold.
func checkTags(tags []string) error {
	for _, t := range tags {
		if t == "" || strings.Contains(t, ",") {
			return fmt.Errorf("demos: tag %q: tags are non-empty and have no commas", t)
		}
	}
	return nil
}

// Tasks lists the distinct task names of the stored episodes, sorted.
func (s *Store) Tasks(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT task FROM episodes ORDER BY task")
	if err != nil {
		return nil, fmt.Errorf("demos: tasks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
