package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"tandem/live"
	"tandem/policies"
	"tandem/sim"
	"tandem/tasks"
	"tandem/teleop"
)

func init() { commands = append(commands, newRolloutCmd) }

// rolloutSink stores finished rollout episodes (tandem rollout --record)
// as they are handed over.
type rolloutSink interface {
	// Add queues one finished episode with all its steps; it returns once
	// queued (the store commits within its commit interval).
	Add(ep *sim.Episode) error
	// Close commits what was added and says where it went.
	Close() (recorded, error)
}

// recorded says where a rollout's episodes went; field names are the
// --json schema.
type recorded struct {
	Data       string  `json:"data"`
	SessionID  int64   `json:"session_id"`
	EpisodeIDs []int64 `json:"episode_ids"`
}

// rolloutInfo says how a rollout's episodes were produced.
type rolloutInfo struct {
	Mode      sim.Mode
	Policy    string   // policy name; empty in teleop mode
	Operator  string   // --operator as given, if any
	Skill     *float64 // --skill, when given
	FirstSeed uint64
	Episodes  int
}

type rolloutFlags struct {
	task, policy, operator, data, mode string
	skill                              float64
	episodes, workers                  int
	seed                               uint64
	asJSON, record                     bool
}

// maxDrawnSeed bounds drawn seeds to 2^53 so that they stay exact in
// JSON readers that use float64 (JavaScript, the console).
const maxDrawnSeed = 1 << 53

func newRolloutCmd() *cobra.Command {
	var f rolloutFlags
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Run headless episodes of a task with a policy and/or a simulated operator",
		Long: `Run headless episodes. Each finished episode is printed (and with --record
stored) as it completes, in episode order; memory stays bounded whatever
--episodes is. SIGINT or SIGTERM stops the workers, keeps every finished
episode and exits 1 with one line saying what was kept (a second one kills).

Modes (docs/storage.md): auto (the default without --operator) runs --policy
alone; shared (the default with --operator) runs --policy with a simulated
operator who takes over by its rule; teleop runs no policy: the simulated
operator (--operator, required) drives every step, as a demonstrator.

Without --seed the first seed is drawn at random (and printed in the summary),
so repeated runs do not collect the same seeds; episode i uses seed+i.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRollout(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.task, "task", "push-t", "task name (see tandem tasks)")
	fl.StringVar(&f.policy, "policy", policies.Expert, "policy name (built-ins: expert, random); not with --mode teleop")
	fl.StringVar(&f.mode, "mode", "", "auto, shared or teleop (default auto, or shared with --operator)")
	fl.Float64Var(&f.skill, "skill", 1, "expert skill in [0, 1] (1 = best); only with --policy expert")
	fl.IntVar(&f.episodes, "episodes", 10, "number of episodes")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the first episode; episode i uses seed+i (default: drawn at random)")
	fl.IntVar(&f.workers, "workers", 0, "parallel workers (0 = all cores)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per episode and a summary line")
	fl.StringVar(&f.operator, "operator", "", "simulated operator, e.g. sim:skill=0.8,rule=distance (see docs/teleop.md)")
	fl.BoolVar(&f.record, "record", false, "store the episodes in the data directory")
	fl.StringVar(&f.data, "data", "./tandem-data", "data directory")
	return cmd
}

// rolloutPlan is a checked command line.
type rolloutPlan struct {
	maker func() sim.Task
	reg   *policies.Registry
	popts policies.Options
	info  rolloutInfo
	op    *teleop.OperatorConfig // --operator, parsed
}

func planRollout(cmd *cobra.Command, f rolloutFlags) (rolloutPlan, error) {
	var p rolloutPlan
	var err error
	if p.maker, err = tasks.Lookup(f.task); err != nil {
		return p, usageError{err}
	}
	changed := cmd.Flags().Changed
	if f.episodes < 1 {
		return p, usagef("--episodes must be at least 1, got %d", f.episodes)
	}
	if f.workers < 0 {
		return p, usagef("--workers must be 0 (all cores) or more, got %d", f.workers)
	}
	var sk *float64
	if changed("skill") {
		sk = &f.skill
	}
	mode, err := rolloutMode(f.mode, f.operator, changed("policy"), sk)
	if err != nil {
		return p, err
	}
	p.info = rolloutInfo{Mode: mode, Operator: f.operator, Episodes: f.episodes}
	if mode != sim.ModeTeleop {
		var err error
		if p.reg, f.policy, err = storedRegistry(cmd.Context(), f.data, f.task, f.policy); err != nil {
			return p, err
		}
		p.popts.Skill, p.info.Skill = sk, sk
		if err := p.reg.Check(f.policy, p.popts); err != nil {
			return p, usageError{err}
		}
		p.info.Policy = f.policy
	}
	if f.operator != "" {
		// Check the description once, before any worker starts, so a typo is
		// one usage error rather than one per episode.
		op, err := live.ParseOperator(f.operator)
		if err != nil {
			return p, usageError{err}
		}
		p.op = &op
	}
	n := uint64(f.episodes - 1)
	if changed("seed") {
		if f.seed > math.MaxUint64-n {
			return p, usagef("--seed %d with --episodes %d would wrap past 2^64 (the last seed is seed+episodes-1); use a seed of at most %d",
				f.seed, f.episodes, uint64(math.MaxUint64)-n)
		}
		p.info.FirstSeed = f.seed
	} else {
		p.info.FirstSeed = rand.Uint64N(max(maxDrawnSeed-n, 1))
	}
	return p, nil
}

// rolloutMode is the mode of a rollout given --mode and --operator:
// default auto, or shared with an operator. It refuses what makes no
// sense (a teleop or shared rollout without an operator, an auto one with
// one, a teleop one given a policy or an expert skill) as a usage error.
// tandem rollout, tandem jobs rollout and the workers' rollout jobs share
// it, so a job is refused when it is submitted, as the command would be.
func rolloutMode(mode, operator string, policySet bool, skill *float64) (sim.Mode, error) {
	m := sim.ModeAuto
	if operator != "" {
		m = sim.ModeShared
	}
	if mode != "" {
		var err error
		if m, err = sim.ParseMode(mode); err != nil {
			return m, usageError{err}
		}
	}
	switch {
	case m == sim.ModeTeleop && operator == "":
		return m, usagef("--mode teleop needs a demonstrator: --operator sim[:KEY=VALUE,...]")
	case m == sim.ModeTeleop && policySet:
		return m, usagef("--mode teleop runs no policy (the operator drives every step); leave out --policy")
	case m == sim.ModeTeleop && skill != nil:
		return m, usagef("--skill is the expert policy's; in --mode teleop give the operator's: --operator sim:skill=%g", *skill)
	case m == sim.ModeShared && operator == "":
		return m, usagef("--mode shared needs an operator who may take over: --operator sim[:KEY=VALUE,...]")
	case m == sim.ModeAuto && operator != "":
		return m, usagef("--mode auto runs the policy alone; leave out --operator, or use --mode shared")
	}
	return m, nil
}

func (p *rolloutPlan) controller(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
	if p.info.Mode == sim.ModeTeleop {
		return newSimDemonstrator(*p.op, task, seed)
	}
	o := p.popts
	o.Seed = seed
	pol, err := p.reg.New(p.info.Policy, task, o)
	if err != nil {
		return nil, err
	}
	if p.info.Mode == sim.ModeShared {
		return newSimOperator(*p.op, task, pol, p.info.Policy, seed)
	}
	return sim.Auto(pol, p.info.Policy), nil
}

// rolloutSummary is the last line of rollout --json.
type rolloutSummary struct {
	sim.Summary
	Mode      sim.Mode `json:"mode"`
	Policy    string   `json:"policy,omitempty"`
	Operator  string   `json:"operator,omitempty"`
	FirstSeed uint64   `json:"first_seed"`
	LastSeed  uint64   `json:"last_seed"` // of the last episode kept
	// Requested is --episodes; Episodes (in Summary) those that finished.
	Requested   int       `json:"requested"`
	Interrupted bool      `json:"interrupted"`
	Recorded    *recorded `json:"recorded,omitempty"`
}

func runRollout(cmd *cobra.Command, f rolloutFlags) error {
	plan, err := planRollout(cmd, f)
	if err != nil {
		return err
	}
	spec := plan.maker().Spec()
	// After the first SIGINT/SIGTERM the handler is removed: the rollout
	// winds down and keeps what finished, and a second signal kills.
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)

	var sink rolloutSink
	if f.record {
		if sink, err = openStoreSink(f.data, spec, plan.info); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	enc := json.NewEncoder(out)
	bar := newProgress(cmd, "rollout "+spec.Name, "episodes", f.episodes, f.asJSON)
	var tally sim.Tally
	delivered, lastSeed := 0, plan.info.FirstSeed
	cfg := sim.RolloutConfig{
		NewTask:    plan.maker,
		Controller: plan.controller,
		Episodes:   f.episodes,
		FirstSeed:  plan.info.FirstSeed,
		Workers:    f.workers,
		KeepSteps:  sink != nil,
		Clock:      sim.WallClock{},
	}
	runErr := sim.Stream(ctx, cfg, func(ep *sim.Episode) error {
		if sink != nil {
			if err := sink.Add(ep); err != nil {
				return fmt.Errorf("record episode %d: %w", ep.Index, err)
			}
		}
		tally.Add(ep)
		delivered++
		lastSeed = ep.Seed
		if f.asJSON {
			if err := enc.Encode(ep); err != nil {
				return err
			}
		} else {
			line := fmt.Sprintf("episode %d seed %d: return %.3f length %d success %v max reward %.3f interventions %d",
				ep.Index, ep.Seed, ep.Return, ep.Length, ep.Success, ep.MaxReward, ep.Interventions)
			if ep.Rejected > 0 {
				line += fmt.Sprintf(" rejected actions %d", ep.Rejected)
			}
			bar.Println(out, line)
		}
		bar.Set(delivered)
		return nil
	})
	bar.Done()
	interrupted := runErr != nil && ctx.Err() != nil && errors.Is(runErr, context.Canceled)
	if runErr != nil && !interrupted {
		var ue usageError
		if sink != nil {
			sink.Close()
		}
		if errors.As(runErr, &ue) {
			return runErr
		}
		return fmt.Errorf("rollout: %w", runErr)
	}
	sum := rolloutSummary{
		Summary: tally.Summary(spec.Name), Mode: plan.info.Mode, Policy: plan.info.Policy, Operator: plan.info.Operator,
		FirstSeed: plan.info.FirstSeed, LastSeed: lastSeed, Requested: f.episodes, Interrupted: interrupted,
	}
	if sink != nil {
		rec, err := sink.Close()
		if err != nil {
			return fmt.Errorf("rollout: record: %w", err)
		}
		sum.Recorded = &rec
	}
	if f.asJSON {
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(out, summaryLine(&sum))
	}
	if interrupted {
		return fmt.Errorf("rollout interrupted: kept %d of %d episodes%s; the episodes running were dropped",
			sum.Episodes, f.episodes, keptWhere(sum.Recorded))
	}
	return nil
}

func summaryLine(s *rolloutSummary) string {
	line := fmt.Sprintf("%s: %d episodes (%s, seeds %d..%d), success rate %.3f, mean return %.3f, mean max reward %.3f, mean length %.1f",
		s.Task, s.Episodes, s.Mode, s.FirstSeed, s.LastSeed, s.SuccessRate, s.MeanReturn, s.MeanMaxReward, s.MeanLength)
	if s.Rejected > 0 {
		line += fmt.Sprintf(", %d rejected actions held", s.Rejected)
	}
	if s.Recorded != nil {
		line += fmt.Sprintf("; recorded in %s as episodes %s", s.Recorded.Data, idRanges(s.Recorded.EpisodeIDs))
	}
	return line
}

func keptWhere(r *recorded) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf(" (stored in %s as episodes %s)", r.Data, idRanges(r.EpisodeIDs))
}

// idRanges prints ids as runs: "3-7, 9, 12-40"; "none" when empty.
func idRanges(ids []int64) string {
	if len(ids) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		} else {
			parts = append(parts, fmt.Sprint(ids[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
