package demos

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/foxglove/mcap/go/mcap"
	"github.com/klauspost/compress/zstd"

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
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	eps, steps, err := readMCAP(f, fi.Size())
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

// Bounds on what one import file may make the reader allocate: a file
// from outside states record and chunk sizes, and the MCAP library
// allocates what they claim before it reads (a 20 KB file claiming a
// 512 MB record made the importer allocate 512 MB; FuzzImportMCAP). A
// record is never larger than the file; a decompressed chunk is at most
// maxImportChunk (tandem writes 1 MiB chunks, the mcap CLI 4 MiB), and its
// zstd window at most that too.
const maxImportChunk = 32 << 20

// readMCAP decodes a tandem export: episode metadata records and the
// /tandem/step messages, grouped by the exported episode id. It reads the
// file once, front to back, checking every chunk's CRC; a file that ends
// before its footer is truncated. size is the file's length.
func readMCAP(r io.Reader, size int64) ([]episodeRecord, map[int64][]Step, error) {
	zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(maxImportChunk), zstd.WithDecoderMaxWindow(maxImportChunk))
	if err != nil {
		return nil, nil, err
	}
	defer zd.Close()
	lx, err := mcap.NewLexer(bufio.NewReader(r), &mcap.LexerOptions{
		ValidateChunkCRCs: true, MaxRecordSize: int(min(size, math.MaxInt32)), MaxDecompressedChunkSize: maxImportChunk,
		Decompressors: map[mcap.CompressionFormat]mcap.ResettableReader{mcap.CompressionZSTD: zstdReader{zd}},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("not an MCAP file: %w", err)
	}
	defer lx.Close()
	damaged := func(err error) error {
		return fmt.Errorf("truncated or damaged MCAP (`mcap recover` may rebuild it): %w", err)
	}
	var eps []episodeRecord
	format := ""
	stepChannels := map[uint16]bool{}
	steps := map[int64][]Step{}
	var buf []byte
	footer := false
	for !footer {
		tok, data, err := lexNext(lx, buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil, damaged(errors.New("the file ends before its footer"))
			}
			return nil, nil, damaged(err)
		}
		if cap(data) > cap(buf) {
			buf = data
		}
		switch tok {
		case mcap.TokenFooter:
			footer = true
		case mcap.TokenChannel:
			ch, err := mcap.ParseChannel(data)
			if err != nil {
				return nil, nil, damaged(err)
			}
			if ch.Topic == TopicStep {
				stepChannels[ch.ID] = true
			}
		case mcap.TokenMetadata:
			md, err := mcap.ParseMetadata(data)
			if err != nil {
				return nil, nil, damaged(err)
			}
			switch md.Name {
			case "tandem.export":
				format = md.Metadata["format"]
			case "tandem.episode":
				var rec episodeRecord
				if err := json.Unmarshal([]byte(md.Metadata["episode"]), &rec); err != nil {
					return nil, nil, fmt.Errorf("episode metadata: %w", err)
				}
				eps = append(eps, rec)
			}
		case mcap.TokenMessage:
			m, err := mcap.ParseMessage(data)
			if err != nil {
				return nil, nil, damaged(err)
			}
			if !stepChannels[m.ChannelID] {
				continue
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
				Subticks: ms.Subticks, Help: ms.Help, ExpertAction: ms.ExpertAction,
			})
		}
	}
	if format == "" {
		return nil, nil, fmt.Errorf("%w (no tandem.export metadata record)", ErrNotTandemMCAP)
	}
	if format != mcapFormat {
		return nil, nil, fmt.Errorf("%w: format %q, this tandem reads %q", ErrNotTandemMCAP, format, mcapFormat)
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

// zstdReader is the import's bounded zstd decoder as an
// mcap.ResettableReader.
type zstdReader struct{ d *zstd.Decoder }

func (z zstdReader) Read(p []byte) (int, error) { return z.d.Read(p) }
func (z zstdReader) Reset(r io.Reader) error    { return z.d.Reset(r) }

// lexNext is lx.Next with the library's panics turned into errors: mcap
// v1.7.0 slices its buffer by a chunk header's compression length before
// checking it, so a hostile file panics inside Next (found by
// FuzzImportMCAP; seed 9869d57dc44faa78).
func lexNext(lx *mcap.Lexer, buf []byte) (tok mcap.TokenType, data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed record: %v", r)
		}
	}()
	return lx.Next(buf)
}
