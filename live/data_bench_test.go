package live

import (
	"context"
	"testing"

	"tandem/demos"
)

// BenchmarkEpisodes reads a task's training data from a store of 500
// recorded reach expert episodes: what every training (the online
// trainer, tandem learn, each hitl round) starts with.
func BenchmarkEpisodes(b *testing.B) {
	ctx := context.Background()
	st, err := demos.Open(ctx, b.TempDir(), demos.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	expertEpisodes(b, st, "reach", 500)
	b.ResetTimer()
	for b.Loop() {
		got, err := Episodes(ctx, st, demos.Filter{Task: "reach"})
		if err != nil || len(got) != 500 {
			b.Fatalf("got %d episodes, %v; want 500", len(got), err)
		}
	}
}
