package demos

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// untar reads a gzipped tar into name → contents.
func untar(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

// files reads every regular file under dir into rel/path → contents.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The tar.gz stream holds exactly the files ExportLeRobot writes, byte for
// byte, under its root; its temporary files are gone afterwards; a
// selection of nothing writes nothing.
func TestWriteLeRobotTarGzMatchesTheDirectory(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2, 3}, "", sharedCtl)
	other := newDot(9, 10).Spec()
	other.Name = "other"
	for i, ep := range rollout(t, 9, []uint64{4}, expertCtl) {
		if _, err := s.AddEpisode(ctx, Info{Spec: other, Seed: uint64(4 + i)}, ep.Steps); err != nil {
			t.Fatal(err)
		}
	}
	for _, small := range []int64{0, 1} { // LeRobot's 100 MB files, and one file per episode
		dir := filepath.Join(t.TempDir(), "ds")
		want, err := ExportLeRobot(ctx, s, Filter{}, dir, ExportOptions{fileBytes: small})
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		var buf bytes.Buffer
		got, err := WriteLeRobotTarGz(ctx, s, Filter{}, &buf, "root", ExportOptions{TempDir: tmp, fileBytes: small})
		if err != nil {
			t.Fatal(err)
		}
		if got.Episodes != want.Episodes || got.Steps != want.Steps || len(got.Datasets) != 2 || got.Bytes != int64(buf.Len()) {
			t.Fatalf("stream stats %+v; want %d episodes, %d steps, 2 datasets, %d bytes", got, want.Episodes, want.Steps, buf.Len())
		}
		entries, disk := untar(t, &buf), files(t, dir)
		if len(entries) != len(disk) {
			t.Fatalf("tar holds %v; the directory %v", keys(entries), keys(disk))
		}
		for name, b := range disk {
			if e, ok := entries["root/"+name]; !ok || !bytes.Equal(e, b) {
				t.Fatalf("tar entry root/%s differs from the directory's file (present %v)", name, ok)
			}
		}
		if small == 1 {
			// Every episode in its own data and metadata file, and the
			// metadata says which.
			ds := filepath.Join(dir, "dot")
			for i := range 3 {
				metas, err := parquet.ReadFile[lerobotEpisode](filepath.Join(ds, "meta", "episodes", "chunk-000", "file-00"+string(rune('0'+i))+".parquet"))
				if err != nil {
					t.Fatal(err)
				}
				frames, err := parquet.ReadFile[lerobotFrame](filepath.Join(ds, "data", "chunk-000", "file-00"+string(rune('0'+i))+".parquet"))
				if err != nil {
					t.Fatal(err)
				}
				m := metas[0]
				if len(metas) != 1 || m.DataFile != int64(i) || m.MetaFile != int64(i) || m.EpisodeIndex != int64(i) ||
					m.From != int64(i*50) || m.To != int64(i*50+50) || len(frames) != 50 || frames[0].Index != int64(i*50) {
					t.Fatalf("file %d: %d metadata rows %+v, %d frames; want episode %d alone", i, len(metas), m, len(frames), i)
				}
			}
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	}
	var buf bytes.Buffer
	if _, err := WriteLeRobotTarGz(ctx, s, Filter{Task: "none"}, &buf, "root", ExportOptions{TempDir: t.TempDir()}); !errors.Is(err, ErrNoEpisodes) || buf.Len() != 0 {
		t.Fatalf("empty selection: %v, %d bytes written; want ErrNoEpisodes and nothing", err, buf.Len())
	}
}

// failAfter fails every write once n bytes went through.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("client gone")
	}
	f.n -= len(p)
	return len(p), nil
}

// A stream whose reader goes away mid-way fails and leaves no temporary
// file behind.
func TestWriteLeRobotTarGzCleansUpAfterAFailure(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addRollouts(t, s, 6, []uint64{1, 2, 3, 4}, "", sharedCtl)
	tmp := t.TempDir()
	_, err := WriteLeRobotTarGz(ctx, s, Filter{}, &failAfter{n: 100}, "root", ExportOptions{TempDir: tmp, fileBytes: 1})
	if err == nil || !strings.Contains(err.Error(), "client gone") {
		t.Fatalf("got %v; want the writer's error", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("temporary files left after a failure: %v", left)
	}
}
