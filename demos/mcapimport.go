package demos

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
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

// ImportResult reports what ImportMCAP stored and what it skipped.
type ImportResult struct {
	// IDs are the new episode ids, in the file's order.
	IDs   []int64 `json:"episodes"`
	Steps int     `json:"steps"`
	// Skipped lists the file's episodes the store already holds.
	Skipped []SkippedEpisode `json:"skipped"`
}

// SkippedEpisode is an episode of an MCAP file that the store already
// holds (same UID), so ImportMCAP left it out.
type SkippedEpisode struct {
	SourceID int64  `json:"source_id"` // its id in the exporting store
	UID      string `json:"uid"`
	Existing int64  `json:"existing_id"` // its id in this store
}

// ImportMCAP reads an MCAP file written by ExportMCAP into the store.
// Everything tandem wrote comes back bit for bit (steps, flags, times,
// summaries, the episode's UID); episodes get new ids. An episode whose UID
// the store already holds (the same file imported twice, or an export of
// this very store) is skipped and listed in Skipped, so importing is
// idempotent. An export without UIDs gets, per episode, one derived from its
// content ("sha256:" and the hash of its task, seed, start and steps). A
// foreign or truncated file is refused before anything is stored. An
// episode keeps the mode it has in the file; one written before modes had
// one meaning (an empty mode, or "import" or "replay") gets the mode its
// steps' sources imply. progress, if not nil, hears after each episode how
// many of the file's episodes are done.
func ImportMCAP(ctx context.Context, s *Store, path string, progress func(done, total int)) (ImportResult, error) {
	res := ImportResult{IDs: []int64{}, Skipped: []SkippedEpisode{}}
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	eps, steps, err := readMCAP(f)
	if err != nil {
		return res, fmt.Errorf("demos: import %s: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range eps {
		rec := &eps[i]
		if progress != nil && i > 0 {
			progress(i, len(eps))
		}
		ep := rec.Episode
		ep.Spec, ep.InitialObs, ep.FinalObs = rec.Spec, rec.InitialObs, rec.FinalObs
		if _, err := sim.ParseMode(string(ep.Mode)); err != nil {
			ep.Mode = modeOfSteps(steps[rec.ID])
		}
		if ep.UID == "" {
			ep.UID = contentUID(&ep, steps[rec.ID])
		}
		existing, err := s.episodeByUID(ctx, ep.UID)
		if err != nil {
			return res, err
		}
		if existing != 0 || seen[ep.UID] {
			res.Skipped = append(res.Skipped, SkippedEpisode{SourceID: rec.ID, UID: ep.UID, Existing: existing})
			continue
		}
		seen[ep.UID] = true
		id, err := s.Insert(ctx, "import", ep, steps[rec.ID])
		if err != nil {
			return res, fmt.Errorf("demos: import episode %d of %s: %w", rec.ID, path, err)
		}
		res.IDs = append(res.IDs, id)
		res.Steps += len(steps[rec.ID])
	}
	if progress != nil {
		progress(len(eps), len(eps))
	}
	return res, nil
}

// modeOfSteps is the mode the sources of steps imply (see deriveMode).
func modeOfSteps(steps []Step) sim.Mode {
	var robot, human, demo bool
	for i := range steps {
		switch steps[i].Source {
		case sim.Robot:
			robot = true
		case sim.Human:
			human = true
		default:
			demo = true
		}
	}
	return deriveMode(robot, human, demo)
}

// episodeByUID returns the id of the episode with uid, or 0.
func (s *Store) episodeByUID(ctx context.Context, uid string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, "SELECT id FROM episodes WHERE uid = ?", uid).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("demos: look up episode %s: %w", uid, err)
	}
	return id, nil
}

// contentUID derives a UID from what identifies a recording: task, seed,
// start time and every step's number, wall time and vectors.
func contentUID(ep *Episode, steps []Step) string {
	h := sha256.New()
	var b []byte
	b = append(b, ep.Task...)
	b = binary.LittleEndian.AppendUint64(b, ep.Seed)
	b = binary.LittleEndian.AppendUint64(b, uint64(ep.Start.UnixNano()))
	h.Write(b)
	for i := range steps {
		st := &steps[i]
		b = b[:0]
		b = binary.LittleEndian.AppendUint64(b, uint64(st.T))
		b = binary.LittleEndian.AppendUint64(b, uint64(st.Wall.UnixNano()))
		b = binary.LittleEndian.AppendUint64(b, uint64(len(st.Obs)))
		b = encodeVec(b, st.Obs)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(st.Action)))
		b = encodeVec(b, st.Action)
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
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
