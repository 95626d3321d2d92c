package main

import (
	"context"
	"errors"
	"time"

	"tandem/demos"
	"tandem/sim"
)

// storeSink stores `tandem rollout --record` episodes in the demonstration
// store of the data directory as they finish: a demos.Recorder commits them
// in batches at least every commit interval (100 ms), each episode whole in
// one transaction, so a crash keeps every episode committed before it.
type storeSink struct {
	dir   string
	store *demos.Store
	rec   *demos.Recorder
	w     *demos.RolloutRecording
}

// rolloutOnCommit, if set, hears each commit of a recorded rollout (the
// kill test's child reports them).
var rolloutOnCommit func(demos.CommitInfo)

// rolloutPending bounds the steps a rollout holds in memory waiting for
// the disk (about 15 MB of rows); beyond it the rollout waits.
const rolloutPending = 1 << 15

func openStoreSink(dataDir string, spec sim.Spec, info rolloutInfo) (rolloutSink, error) {
	ctx := context.Background()
	s, err := demos.Open(ctx, dataDir, demos.Options{})
	if err != nil {
		return nil, err
	}
	rec := demos.NewRecorder(s, demos.RecorderConfig{MaxPending: rolloutPending, OnCommit: rolloutOnCommit})
	details := map[string]any{"command": "tandem rollout", "first_seed": info.FirstSeed, "episodes": info.Episodes}
	if info.Policy != "" {
		details["policy"] = info.Policy
	}
	if info.Operator != "" {
		details["operator"] = info.Operator
	}
	if info.Skill != nil {
		details["skill"] = *info.Skill
	}
	w, err := rec.Rollout(ctx, demos.RolloutInfo{Spec: spec, Mode: info.Mode, Details: details})
	if err != nil {
		rec.Close()
		s.Close()
		return nil, err
	}
	return &storeSink{dir: dataDir, store: s, rec: rec, w: w}, nil
}

// Add queues ep for the recorder; it waits only when the disk is behind.
func (k *storeSink) Add(ep *sim.Episode) error { return k.w.Add(context.Background(), ep) }

// Close commits what was added (waiting up to a minute for the disk) and
// closes the store.
func (k *storeSink) Close() (recorded, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := k.rec.Flush(ctx)
	err = errors.Join(err, k.rec.Close(), k.store.Close())
	return recorded{Data: k.dir, SessionID: k.w.SessionID(), EpisodeIDs: k.w.IDs()}, err
}
