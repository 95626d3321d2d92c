package demos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"

	"tandem/foxglove"
	"tandem/sim"
)

func exportTestMCAP(t *testing.T, s *Store, f Filter) (string, ExportStats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.mcap")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ExportMCAP(context.Background(), s, f, out, ExportOptions{Lookup: dotLookup(6, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path, st
}

func TestExportMCAPReadsBack(t *testing.T) {
	s, _ := openTest(t)
	ids := addRollouts(t, s, 6, []uint64{1, 2, 3}, "", sharedCtl)
	path, st := exportTestMCAP(t, s, Filter{IDs: ids[:2]})
	if st.Episodes != 2 || st.Steps != 100 || len(st.Warnings) != 0 {
		t.Fatalf("export stats %+v; want 2 episodes, 100 steps, no warnings", st)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := mcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	info, err := rd.Info()
	if err != nil {
		t.Fatal(err)
	}
	if len(info.ChunkIndexes) == 0 {
		t.Fatal("export is not chunked")
	}
	for _, ci := range info.ChunkIndexes {
		if ci.Compression != mcap.CompressionZSTD {
			t.Fatalf("chunk compression %q; want zstd", ci.Compression)
		}
	}
	schemaOf := map[string]string{}
	for _, ch := range info.Channels {
		sc := info.Schemas[ch.SchemaID]
		if ch.MessageEncoding != "json" || sc.Encoding != "jsonschema" {
			t.Fatalf("channel %s: encoding %s/%s; want json/jsonschema", ch.Topic, ch.MessageEncoding, sc.Encoding)
		}
		var js map[string]any
		if err := json.Unmarshal(sc.Data, &js); err != nil || js["type"] != "object" {
			t.Fatalf("schema %s is not a JSON object schema: %v", sc.Name, err)
		}
		schemaOf[ch.Topic] = sc.Name
	}
	if schemaOf[TopicScene] != "foxglove.SceneUpdate" || schemaOf[TopicStep] != "tandem.Step" || len(schemaOf) != 5 {
		t.Fatalf("topics %v", schemaOf)
	}
	counts := map[string]int{}
	var prevWall int64
	steps0, _ := s.Steps(context.Background(), ids[0])
	it, err := rd.Messages(mcap.UsingIndex(true), mcap.InOrder(mcap.FileOrder))
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, ch, msg, err := it.NextInto(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		counts[ch.Topic]++
		switch ch.Topic {
		case TopicStep:
			var m mcapStep
			if err := json.Unmarshal(msg.Data, &m); err != nil {
				t.Fatal(err)
			}
			if uint64(m.WallNs) != msg.LogTime {
				t.Fatalf("log time %d; want the step's wall time %d", msg.LogTime, m.WallNs)
			}
			if m.EpisodeID == ids[0] && !reflect.DeepEqual(m.Obs, steps0[m.T].Obs) {
				t.Fatalf("step %d observation differs from the store", m.T)
			}
			if m.EpisodeID == ids[0] && m.WallNs < prevWall {
				t.Fatal("step messages out of time order")
			}
			prevWall = m.WallNs
		case TopicScene:
			var u foxglove.SceneUpdate
			if err := json.Unmarshal(msg.Data, &u); err != nil {
				t.Fatal(err)
			}
			if len(u.Entities) < 2 || u.Entities[0].ID != "body/dot" || len(u.Entities[0].Cylinders) != 1 || len(u.Entities[0].Triangles) != 1 {
				t.Fatalf("scene update %+v; want the dot (a disc and a triangle) and the goal", u.Entities)
			}
		case TopicState:
			var m mcapState
			json.Unmarshal(msg.Data, &m)
			if _, ok := m.Observation["goal_x"]; !ok {
				t.Fatalf("state message without named observation: %s", msg.Data)
			}
		}
	}
	want := map[string]int{TopicStep: 100, TopicState: 100, TopicAction: 100, TopicScene: 102}
	for topic, n := range want {
		if counts[topic] != n {
			t.Fatalf("%s: %d messages; want %d (counts %v)", topic, counts[topic], n, counts)
		}
	}
	// Events: 2 resets, 2 ends, 2×2 intervention starts, 2×1 ends
	// (the second one is at step 54, past the horizon) plus successes.
	if counts[TopicEvents] < 10 {
		t.Fatalf("%d events; want at least 10", counts[TopicEvents])
	}
}

func TestMCAPImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ids := addRollouts(t, s, 6, []uint64{7, 8}, "", sharedCtl)
	s.Annotate(ctx, ids[1], []string{"x"}, "note")
	// A live period's sub-tick commands, a help request and an expert's
	// label travel too: replay re-executes the first, learners read the
	// others.
	eps := rollout(t, 6, []uint64{9}, sharedCtl)
	recs := eps[0].Steps
	recs[3].Subticks = []float64{0.1, -0.2, 0.3, -0.4, 0.5, -0.6}
	recs[4].Help = true
	for i := range recs {
		recs[i].ExpertAction = sim.VecOf([]float64{float64(i) / 7, -1})
	}
	id, err := s.AddEpisode(ctx, Info{Spec: newDot(6, 10).Spec(), Seed: 9, Start: testStart.Add(time.Hour)}, recs)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)
	path, _ := exportTestMCAP(t, s, Filter{})
	dst, _ := openTest(t)
	res, err := ImportMCAP(ctx, dst, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	newIDs := res.IDs
	if len(newIDs) != 3 || res.Steps != 150 || len(res.Skipped) != 0 {
		t.Fatalf("import %+v; want 3 episodes, 150 steps, none skipped", res)
	}
	for i, id := range ids {
		a, _ := s.Episode(ctx, id)
		b, _ := dst.Episode(ctx, newIDs[i])
		a.ID, a.SessionID, b.ID, b.SessionID = 0, 0, 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("episode %d after import:\n got %+v\nwant %+v", id, b, a)
		}
		sa, _ := s.Steps(ctx, id)
		sb, _ := dst.Steps(ctx, newIDs[i])
		if !reflect.DeepEqual(sa, sb) {
			t.Fatalf("episode %d steps differ after import", id)
		}
	}
	if sb, _ := dst.Steps(ctx, newIDs[2]); len(sb[3].Subticks) != 6 || !sb[4].Help || len(sb[10].ExpertAction) != 2 {
		t.Fatalf("imported step 3 subticks %v, step 4 help %v, step 10 expert action %v; want them kept", sb[3].Subticks, sb[4].Help, sb[10].ExpertAction)
	}
}

func TestMCAPImportRefusesForeignAndTruncated(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{7}, "", expertCtl)
	good, _ := exportTestMCAP(t, s, Filter{})
	data, _ := os.ReadFile(good)
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.mcap")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	notMCAP := filepath.Join(dir, "text.mcap")
	os.WriteFile(notMCAP, []byte("hello"), 0o644)
	foreign := filepath.Join(dir, "foreign.mcap")
	var buf bytes.Buffer
	w, _ := mcap.NewWriter(&buf, &mcap.WriterOptions{Chunked: true})
	w.WriteHeader(&mcap.Header{Profile: "ros2"})
	w.WriteSchema(&mcap.Schema{ID: 1, Name: "x", Encoding: "jsonschema", Data: []byte(`{"type":"object"}`)})
	w.WriteChannel(&mcap.Channel{ID: 1, SchemaID: 1, Topic: "/odom", MessageEncoding: "json"})
	w.WriteMessage(&mcap.Message{ChannelID: 1, Data: []byte(`{}`)})
	w.Close()
	os.WriteFile(foreign, buf.Bytes(), 0o644)
	tests := []struct {
		name, path, want string
	}{
		{"truncated", truncated, "truncated"},
		{"not mcap", notMCAP, "not an MCAP"},
		{"foreign", foreign, "not a tandem MCAP"},
		{"missing", filepath.Join(dir, "none.mcap"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst, _ := openTest(t)
			_, err := ImportMCAP(ctx, dst, tc.path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("import: got %v; want an error containing %q", err, tc.want)
			}
			if eps, _ := dst.ListEpisodes(ctx, Filter{}); len(eps) != 0 {
				t.Fatalf("a refused import stored %d episodes", len(eps))
			}
		})
	}
}

// TestMCAPImportTwiceSkipsKnownEpisodes imports the same file twice, and an
// export back into the store it came from: nothing is duplicated, and what
// was skipped is reported with the ids the store already has.
func TestMCAPImportTwiceSkipsKnownEpisodes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ids := addRollouts(t, s, 6, []uint64{7, 8}, "", sharedCtl)
	path, _ := exportTestMCAP(t, s, Filter{})
	dst, _ := openTest(t)
	first, err := ImportMCAP(ctx, dst, path, nil)
	if err != nil || len(first.IDs) != 2 {
		t.Fatalf("first import: %+v, %v; want 2 episodes", first, err)
	}
	tests := []struct {
		name  string
		store *Store
		want  []int64 // existing ids, in file order
	}{
		{"same file again", dst, first.IDs},
		{"back into the exporting store", s, ids},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tc.store.ListEpisodes(ctx, Filter{})
			res, err := ImportMCAP(ctx, tc.store, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.IDs) != 0 || res.Steps != 0 || len(res.Skipped) != 2 {
				t.Fatalf("import %+v; want nothing imported, 2 skipped", res)
			}
			for i, sk := range res.Skipped {
				if sk.Existing != tc.want[i] || sk.SourceID != ids[i] || sk.UID == "" {
					t.Fatalf("skipped[%d] = %+v; want existing id %d, source id %d", i, sk, tc.want[i], ids[i])
				}
			}
			after, _ := tc.store.ListEpisodes(ctx, Filter{})
			if len(after) != len(before) {
				t.Fatalf("%d episodes after the import; want %d", len(after), len(before))
			}
		})
	}
	// An export without UIDs (written before they existed) is recognised by
	// its content.
	if _, err := s.DB().ExecContext(ctx, "UPDATE episodes SET uid = '' WHERE id = ?", ids[0]); err != nil {
		t.Fatal(err)
	}
	old, _ := exportTestMCAP(t, s, Filter{IDs: ids[:1]})
	fresh, _ := openTest(t)
	for i, want := range []int{1, 0} {
		res, err := ImportMCAP(ctx, fresh, old, nil)
		if err != nil || len(res.IDs) != want || len(res.Skipped) != 1-want {
			t.Fatalf("import %d of a file without UIDs: %+v, %v; want %d imported", i+1, res, err, want)
		}
		if want == 1 {
			ep, _ := fresh.Episode(ctx, res.IDs[0])
			if !strings.HasPrefix(ep.UID, "sha256:") {
				t.Fatalf("UID of an episode imported without one: %q; want a sha256: content key", ep.UID)
			}
		}
	}
}
