package demos

import "time"

// CommitInfo describes one successful commit.
type CommitInfo struct {
	// Start is when the writer took the rows from the queue; End when the
	// transaction had committed.
	Start, End time.Time
	// Steps is the number of steps in this transaction; Total the steps
	// committed since the recorder started.
	Steps int
	Total uint64
	// Drained reports that the transaction took every row queued at
	// Start: every step that reached the recorder before Start is on disk.
	// (False only when the writer is behind and bounds its batches.)
	Drained bool
}

// RecorderStats are the recorder's counters, for /metrics and status views.
type RecorderStats struct {
	Sessions          int           `json:"sessions"`
	PendingSteps      int           `json:"pending_steps"`
	CommittedSteps    uint64        `json:"committed_steps"`
	CommittedEpisodes uint64        `json:"committed_episodes"`
	Commits           uint64        `json:"commits"`
	CommitFailures    uint64        `json:"commit_failures"`
	DroppedSteps      uint64        `json:"dropped_steps"`
	LastCommit        time.Time     `json:"last_commit,omitzero"`
	LastCommitTook    time.Duration `json:"last_commit_took_ns"`
	MaxCommitTook     time.Duration `json:"max_commit_took_ns"`
	// Lag is the age of the oldest step not yet committed (0 when none).
	Lag       time.Duration `json:"lag_ns"`
	LastError string        `json:"last_error,omitempty"`
}
