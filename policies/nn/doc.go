// Package nn is the neural-network layer tandem's learners are built on:
// multi-layer perceptrons in float32 with their forward and backward passes,
// output heads and their losses, Adam, ensembles trained on a persistent
// worker pool, observation/action normalisation, frame stacking, frozen
// inference models and their checkpoints. It imports nothing from tandem.
//
// # Networks
//
// An Arch (from a Config) is In → [Linear → LayerNorm? → act] × hidden →
// Linear → Out, act being ReLU or tanh and the LayerNorm optional after each
// hidden linear layer (RLPD's critics). Parameters are one flat []float32
// per network, laid out as a torch state dict (Arch.Tensors): layers.{i}.
// weight [out, in] row-major, layers.{i}.bias, norms.{i}.weight/bias. Flat
// vectors make target networks (Polyak, τ = 0.005), weight copies and
// publication plain slice operations. Arch.Forward and Arch.Backward run one
// batch on the calling goroutine through a Tape (the batch's activations);
// Backward adds parameter gradients and, when asked, writes the gradient
// with respect to the input, which an actor update needs to push a critic's
// ∂Q/∂a into the actor.
//
// A Head turns the Out raw outputs into an action and a per-sample loss:
// Deterministic (MSE, optional tanh), Gaussian (mean and clamped log std,
// NLL) and GMM (robomimic's mixture head: 5 modes, min std 1e-4 in Sirius,
// NLL). Losses take per-sample weights (Sirius multiplies each step's NLL by
// its class weight) and are weighted means over the batch's rows.
//
// Adam is AdamW, decoupled weight decay (Loshchilov & Hutter, ICLR 2019, as
// torch.optim.AdamW; see AdamConfig), with optional gradient clipping by
// global norm. Polyak averages flat parameter vectors for target networks.
//
// # Learners' entry points
//
// Trainer (BC, HG-DAgger, IWR, Sirius): a Dataset of flat float32 rows, a
// batch given as row indices with per-sample loss weights, Step; StepEach
// gives each ensemble member its own rows (ThriftyDAgger's bootstrap).
// Ensemble (RLPD critics, or any regression): batches already gathered
// into a Batch; Params exposes each member's live parameters for Polyak
// targets and for Arch.Forward/Backward when a learner needs a loss of its
// own (an actor's ∂Q/∂a through the critics: Backward with dx, grad nil).
// Model/Policy: inference. Save/Load: checkpoints (docs/policies.md).
//
// # Threading and allocation
//
// A Pool is a fixed set of worker goroutines started once (DefaultPool has
// GOMAXPROCS−1; the caller of Run is one more participant); an Ensemble
// runs its members on it in parallel and, with fewer members than cores,
// splits each batch into per-core chunks whose gradients are summed in a
// fixed order, so results do not depend on scheduling. Matrix kernels are
// single-threaded: no BLAS starts goroutines of its own. Every buffer is
// allocated when a Trainer, Ensemble, Tape or Policy is built: Trainer.Step,
// Ensemble.Step and Policy.Act allocate nothing (tests assert it).
//
// A Trainer and an Ensemble belong to one goroutine. Trainer.Model
// snapshots the parameters into an immutable Model, safe to share; each
// session makes its own Policy from it (frame history and buffers), whose
// Act runs on the session's loop goroutine while training goes on elsewhere.
//
// # Normalisation and frame stacking
//
// Observations are normalised per dimension by the training data's mean and
// std (std < 1e-6 becomes 1), actions mapped to [-1, 1] from the task's
// bounds and back. The network's input is the last FrameStack normalised
// observations concatenated oldest first; at an episode's start (Policy.Reset,
// or a dataset row near its episode's first row) the first observation fills
// the missing frames, as robomimic pads its frame stacks.
//
// Deviation: Sirius trains BC-RNN (an LSTM of 400 units over sequences of
// 10). tandem stands in a feed-forward network over a stack of the last k
// observations: it keeps the short-term memory that makes BC-RNN work on
// multimodal demonstrations without recurrent backpropagation; an LSTM can
// come later behind the same Model/Policy API.
//
// # Kernels
//
// The default build multiplies matrices with the package's own GEMM (BLIS
// structure; a 6×16 register-blocked AVX2/FMA micro-kernel in Go assembly
// that reads A in place and B packed only when transposed) and runs ReLU,
// its gradient, sums and Adam in AVX2 loops, all selected at start by CPU
// feature detection (golang.org/x/sys/cpu); without AVX2 it uses gonum's
// blas32, called on tiles of at most 64×192 so that gonum never goes
// parallel (its parallel Sgemm starts goroutines and allocates per call).
// The openblas build tag (cgo, Debian's libopenblas-dev) routes blas32 to
// OpenBLAS with one blas32.Use, sets OpenBLAS to one thread, and warns when
// openblas_get_corename() shows a fallback core (set OPENBLAS_CORETYPE).
// TANDEM_NN_KERNEL=avx2|gonum|purego overrides the choice (purego: no
// assembly at all); KernelName reports it. Measurements: docs/benchmarks.md.
package nn
