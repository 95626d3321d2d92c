package demos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"
)

// FuzzImportMCAP: `tandem demos import FILE` reads files from outside. Any
// file imports or fails with an error, never panics; a file that is not a
// whole tandem export is refused before anything is stored; what is
// stored reads back consistently (steps 0..length-1), a second import of
// the same file stores nothing, and the imported episodes export again.
func FuzzImportMCAP(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzImportMCAP (a small export of two
	// episodes, and that export truncated, without its summary, with a
	// damaged chunk, and a foreign MCAP file); TANDEM_FUZZ_SEEDS=1 go test
	// -run TestWriteImportMCAPSeeds ./demos rewrites them.
	ctx := context.Background()
	s, _ := openTest(f)
	dir := f.TempDir()
	count := func(t *testing.T) int {
		eps, err := s.ListEpisodes(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(eps)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "in.mcap")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		before := count(t)
		res, err := ImportMCAP(ctx, s, path, nil)
		if err != nil {
			if strings.HasPrefix(err.Error(), "demos: import "+path+":") && count(t) != before {
				t.Fatalf("refused file stored %d episodes: %v", count(t)-before, err)
			}
			return
		}
		for _, id := range res.IDs {
			ep, err := s.Episode(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			steps, err := s.Steps(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != ep.Length {
				t.Fatalf("episode %d: %d steps stored, summary says %d", id, len(steps), ep.Length)
			}
			for i := range steps {
				if steps[i].T != i {
					t.Fatalf("episode %d: step %d has t %d", id, i, steps[i].T)
				}
			}
		}
		again, err := ImportMCAP(ctx, s, path, nil)
		if err != nil || len(again.IDs) != 0 {
			t.Fatalf("second import: %d new episodes, %v; want none (idempotent)", len(again.IDs), err)
		}
		if len(res.IDs) > 0 {
			if _, err := ExportMCAP(ctx, s, Filter{IDs: res.IDs}, io.Discard, ExportOptions{}); err != nil {
				t.Fatalf("export of imported episodes %v: %v", res.IDs, err)
			}
		}
	})
}

// TestWriteImportMCAPSeeds writes FuzzImportMCAP's seed corpus (only with
// TANDEM_FUZZ_SEEDS=1).
func TestWriteImportMCAPSeeds(t *testing.T) {
	if os.Getenv("TANDEM_FUZZ_SEEDS") != "1" {
		t.Skip("set TANDEM_FUZZ_SEEDS=1 to rewrite testdata/fuzz/FuzzImportMCAP")
	}
	ctx := context.Background()
	s, _ := openTest(t)
	for i, ep := range rollout(t, 6, []uint64{1, 2}, sharedCtl) {
		// Three steps each keep the seeds small.
		if _, err := s.AddEpisode(ctx, Info{Spec: newDot(6, 10).Spec(), Seed: ep.Seed, Start: testStart.Add(time.Duration(i) * time.Minute)}, ep.Steps[:3]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := ExportMCAP(ctx, s, Filter{}, &buf, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	damaged := bytes.Clone(whole)
	damaged[len(damaged)/3] ^= 0xff
	var foreign bytes.Buffer
	w, err := mcap.NewWriter(&foreign, &mcap.WriterOptions{Chunked: true, ChunkSize: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteHeader(&mcap.Header{Library: "other"})
	w.WriteSchema(&mcap.Schema{ID: 1, Name: "x", Encoding: "jsonschema", Data: []byte(`{}`)})
	w.WriteChannel(&mcap.Channel{ID: 1, SchemaID: 1, Topic: TopicStep, MessageEncoding: "json"})
	w.WriteMessage(&mcap.Message{ChannelID: 1, Data: []byte(`{"episode_id":1,"t":0}`)})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzImportMCAP")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"export":     whole,
		"truncated":  whole[:len(whole)*2/3],
		"no-summary": whole[:len(whole)-200],
		"damaged":    damaged,
		"foreign":    foreign.Bytes(),
	} {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
