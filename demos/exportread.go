package demos

import (
	"context"
	"fmt"
)

// How exports read the store (issue 15: four slow downloads held 1.4 GB
// and 448 MB of temporary files for 4 minutes).
//
// An export fixes its selection first: the ids the filter selects, with
// what groups them into datasets (task, task version, control rate), read
// in one snapshot; that list is all it keeps for the whole export (a few
// dozen bytes an episode, where the episodes' summaries with their specs
// took kilobytes). Then it reads one episode at a time, its summary and
// its steps in one short read transaction, writes it and lets it go. So
// memory holds one episode whatever the selection's size, and a download
// that takes an hour holds no read transaction open for an hour (which
// would stop SQLite from checkpointing the write-ahead log while sessions
// record).
//
// The picture is still consistent: the selection is one snapshot, and each
// episode is read whole (summary and steps at one moment). An ended
// episode never changes again but for its tags and note; a running one
// (include_running) is exported as far as it is committed when its turn
// comes. Nothing deletes episodes or rewrites steps (docs/storage.md).

// exportRef is one selected episode and what groups it into a dataset.
type exportRef struct {
	ID      int64
	Task    string
	Version int
	Hz      float64
}

// selectForExport lists the ids f selects, in id order, in one snapshot.
func (s *Store) selectForExport(ctx context.Context, f Filter) ([]exportRef, error) {
	tx, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q, args := f.query("id, task, task_version, control_hz")
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("demos: select episodes: %w", err)
	}
	defer rows.Close()
	var out []exportRef
	for rows.Next() {
		var r exportRef
		if err := rows.Scan(&r.ID, &r.Task, &r.Version, &r.Hz); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// readForExport reads one episode's summary and steps in one read
// transaction.
func (s *Store) readForExport(ctx context.Context, id int64) (Episode, []Step, error) {
	tx, err := s.snapshot(ctx)
	if err != nil {
		return Episode{}, nil, err
	}
	defer tx.Rollback()
	ep, err := episodeOf(ctx, tx, id)
	if err != nil {
		return ep, nil, err
	}
	steps, err := stepsOf(ctx, tx, &ep)
	return ep, steps, err
}
