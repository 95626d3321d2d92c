package demos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/foxglove/mcap/go/mcap"

	"tandem/sim"
)

// ErrNotTandemMCAP is returned when importing an MCAP file that tandem did
// not write.
var ErrNotTandemMCAP = errors.New("demos: not a tandem MCAP export")

// ImportMCAP reads an MCAP file written by ExportMCAP into the store and
// returns the new episode ids in the file's order. Everything tandem wrote
// comes back bit for bit (steps, flags, times, summaries); episodes get new
// ids. A foreign or truncated file is refused before anything is stored.
func ImportMCAP(ctx context.Context, s *Store, path string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	eps, steps, err := readMCAP(f)
	if err != nil {
		return nil, fmt.Errorf("demos: import %s: %w", path, err)
	}
	ids := make([]int64, 0, len(eps))
	for i := range eps {
		rec := &eps[i]
		ep := rec.Episode
		ep.Spec, ep.InitialObs, ep.FinalObs = rec.Spec, rec.InitialObs, rec.FinalObs
		id, err := s.Insert(ctx, "import", ep, steps[rec.ID])
		if err != nil {
			return ids, fmt.Errorf("demos: import episode %d of %s: %w", rec.ID, path, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// readMCAP decodes a tandem export: episode metadata records and the
// /tandem/step messages, grouped by the exported episode id.
func readMCAP(r io.ReadSeeker) ([]episodeRecord, map[int64][]Step, error) {
	rd, err := mcap.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("not an MCAP file: %w", err)
	}
	defer rd.Close()
	info, err := rd.Info()
	if err != nil {
		return nil, nil, fmt.Errorf("truncated or damaged MCAP (no readable summary; `mcap recover` may rebuild it): %w", err)
	}
	var eps []episodeRecord
	format := ""
	for _, mi := range info.MetadataIndexes {
		if mi.Name != "tandem.export" && mi.Name != "tandem.episode" {
			continue
		}
		md, err := rd.GetMetadata(mi.Offset)
		if err != nil {
			return nil, nil, fmt.Errorf("metadata %s: %w", mi.Name, err)
		}
		if mi.Name == "tandem.export" {
			format = md.Metadata["format"]
			continue
		}
		var rec episodeRecord
		if err := json.Unmarshal([]byte(md.Metadata["episode"]), &rec); err != nil {
			return nil, nil, fmt.Errorf("episode metadata: %w", err)
		}
		eps = append(eps, rec)
	}
	if format == "" {
		return nil, nil, fmt.Errorf("%w (no tandem.export metadata record)", ErrNotTandemMCAP)
	}
	if format != mcapFormat {
		return nil, nil, fmt.Errorf("%w: format %q, this tandem reads %q", ErrNotTandemMCAP, format, mcapFormat)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	rd2, err := mcap.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	defer rd2.Close()
	it, err := rd2.Messages(mcap.UsingIndex(true), mcap.WithTopics([]string{TopicStep}), mcap.InOrder(mcap.FileOrder))
	if err != nil {
		return nil, nil, err
	}
	steps := map[int64][]Step{}
	var msg mcap.Message
	for {
		_, _, m, err := it.NextInto(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s messages: %w", TopicStep, err)
		}
		var ms mcapStep
		if err := json.Unmarshal(m.Data, &ms); err != nil {
			return nil, nil, fmt.Errorf("%s message %d: %w", TopicStep, m.Sequence, err)
		}
		steps[ms.EpisodeID] = append(steps[ms.EpisodeID], Step{
			T: ms.T, Obs: ms.Obs, Action: ms.Action, PolicyAction: ms.PolicyAction, Source: sim.Source(ms.Source),
			Reward: ms.Reward, Terminal: ms.Terminal, Truncated: ms.Truncated, Success: ms.Success,
			Wall: time.Unix(0, ms.WallNs).UTC(), Operator: ms.Operator, PolicyVersion: ms.PolicyVersion,
			InterventionStart: ms.InterventionStart, InterventionEnd: ms.InterventionEnd,
		})
	}
	for i := range eps {
		id := eps[i].ID
		st := steps[id]
		sort.SliceStable(st, func(a, b int) bool { return st[a].T < st[b].T })
		if len(st) != eps[i].Length {
			return nil, nil, fmt.Errorf("episode %d has %d steps in the file; its summary says %d (truncated export?)", id, len(st), eps[i].Length)
		}
		for j := range st {
			if st[j].T != j {
				return nil, nil, fmt.Errorf("episode %d: step %d missing", id, j)
			}
		}
	}
	if len(eps) == 0 && len(steps) > 0 {
		return nil, nil, fmt.Errorf("%w: steps without episode metadata", ErrNotTandemMCAP)
	}
	for id := range steps {
		found := false
		for i := range eps {
			found = found || eps[i].ID == id
		}
		if !found {
			return nil, nil, errors.New("steps for episode " + strconv.FormatInt(id, 10) + " without its metadata")
		}
	}
	return eps, steps, nil
}
