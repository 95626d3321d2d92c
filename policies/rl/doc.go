// Package rl is tandem's off-policy actor-critic and the two learners
// built on it, registered with package policies: "rlif" (RLIF: Luo et al.,
// "RLIF: Interactive Imitation Learning as Reinforcement Learning", ICLR
// 2024; official code pd-perry/RLIF) and "rlpd" (HIL-SERL style: Luo et
// al., "Precise and Dexterous Robotic Manipulation via Human-in-the-Loop
// Reinforcement Learning", 2024; rail-berkeley/hil-serl). docs/algorithms.md has
// the algorithm, every constant with its source, the deviations and the
// measurements.
//
// # The agent
//
// Agent is SAC with RLPD's choices on package nn's networks: a
// tanh-squashed Gaussian actor (log-probability with the log-Jacobian of
// tanh), an ensemble of LayerNorm Q critics (nn.Ensemble) with Polyak
// targets (τ = 0.005), the target the minimum over two critics drawn from
// the ensemble, no entropy term in the backup, the actor's loss on the
// ensemble mean, a learned temperature with target entropy −|A|/2, γ =
// 0.99. The actor's loss reaches its parameters through the critics:
// nn.Arch.Backward writes ∂Q/∂a into the critic's input gradient. Actions
// are in normalised units [-1, 1]; observations are normalised by the
// statistics of the first data the agent saw (kept from then on, so the
// critics' inputs keep their meaning across rounds).
//
// The saved policy is the actor alone as an nn.Model with a Gaussian head
// whose mean is tanh-squashed: its Act is tanh(μ), the mode, which is what
// evaluation and the registry's sessions run. Explorer samples the
// tanh-Gaussian instead, for data collection.
//
// # Data
//
// Label turns recorded episodes into transitions: RLIF's reward (−1 on the
// robot step before an intervention, 0 otherwise, no task reward) or the
// task's reward (rlpd, with an optional gripper penalty). Demonstration
// steps go to the demonstration buffer, robot steps to the online buffer,
// intervention steps to both (HIL-SERL); every batch is drawn half from
// each (RLPD's symmetric sampling).
//
// # Round-based and streaming use
//
// Learner (policies.Learner) is round-based: Train rebuilds the buffers
// from all the episodes it is given and makes UTD critic updates per new
// transition. Runner is streaming: it takes Steps from a StepSource as
// actors record them and publishes Weights to a WeightsPublisher every
// PublishEvery updates; actors follow with a Follower. Those four
// interfaces are the actor/learner seam: plain values (steps as structs,
// weights as checkpoint bytes), so a NATS implementation can replace the
// in-process Pipe and Board without touching the algorithms.
//
// # Resuming
//
// A learner's state besides the actor (critics, targets, all Adam
// moments, temperature, counters, random state) is a safetensors file
// beside the checkpoint (policies.StatePath, format in state.go and docs/algorithms.md);
// the card records its sha256. A learner given it (Resume) continues
// exactly where the saved one stopped.
//
// # Goroutines and allocation
//
// An Agent, a Learner and a Runner belong to one goroutine each; the
// networks run their batches on an nn.Pool (members and row chunks in
// parallel, gradients summed in a fixed order, so results do not depend
// on scheduling). Agent.Update allocates nothing after construction
// (tested). Pipe and Board are safe for concurrent use; a Follower and an
// Explorer belong to their session's loop or rollout worker, and
// Explorer.Act allocates nothing.
package rl
