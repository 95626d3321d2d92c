package main

import (
	"context"
	"fmt"
	"time"

	"tandem/demos"
	"tandem/sim"
)

func init() { openRolloutSink = openStoreSink }

// storeSink stores `tandem rollout --record` episodes in the demonstration
// store of the data directory.
type storeSink struct {
	store *demos.Store
	start time.Time
}

func openStoreSink(dataDir string) (rolloutSink, error) {
	s, err := demos.Open(context.Background(), dataDir, demos.Options{})
	if err != nil {
		return nil, err
	}
	return &storeSink{store: s, start: time.Now()}, nil
}

// Add stores one rollout episode; its steps are stamped from the start of
// the rollout command at the control rate (rollouts run faster than real
// time and carry no wall clock).
func (k *storeSink) Add(spec sim.Spec, ep sim.Episode, info rolloutInfo) error {
	note := fmt.Sprintf("tandem rollout: policy %s, skill %g", info.Policy, info.Skill)
	if info.Operator != "" {
		note += ", operator " + info.Operator
	}
	start := k.start.Add(time.Duration(ep.Index) * time.Duration(float64(spec.Horizon)/spec.ControlHz*float64(time.Second)))
	_, err := k.store.AddEpisode(context.Background(), demos.Info{
		Spec: spec, Seed: ep.Seed, Mode: info.Mode, Start: start, Note: note, Session: "rollout",
	}, ep.Steps)
	return err
}

func (k *storeSink) Close() error { return k.store.Close() }
