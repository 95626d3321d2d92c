package demos

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"
)

// lerobotSink receives one dataset's files: create opens the file at rel
// (slash-separated, under the dataset's root); the file is complete when
// it is closed. A dataset writer keeps at most two files open at once
// (its data file and its episode-metadata file).
type lerobotSink interface {
	create(rel string) (lerobotFile, error)
}

// lerobotFile is a file being written; Size is the bytes written so far
// (what makes a data file roll over to the next).
type lerobotFile interface {
	io.WriteCloser
	Size() int64
}

// dirSink writes a dataset into a directory.
type dirSink string

func (d dirSink) create(rel string) (lerobotFile, error) {
	p := filepath.Join(string(d), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	return &sizedFile{File: f}, nil
}

// sizedFile counts what is written to a file.
type sizedFile struct {
	*os.File
	n int64
}

func (f *sizedFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.n += int64(n)
	return n, err
}

func (f *sizedFile) Size() int64 { return f.n }

// tarSink writes a dataset's files as entries of a tar stream under
// prefix. A tar header states the entry's size, which a parquet file does
// not know until it is finished, so each file is first written to a
// temporary file in dir ("spill") and copied into the stream, then
// removed, when it is closed. Entries are written whole, one after the
// other, in the order the files are closed; spills lists the temporary
// files not yet removed (the caller removes them after an error).
type tarSink struct {
	tw     *tar.Writer
	dir    string
	prefix string
	spills *[]*os.File
}

func (t *tarSink) create(rel string) (lerobotFile, error) {
	f, err := os.CreateTemp(t.dir, "spill-*")
	if err != nil {
		return nil, err
	}
	*t.spills = append(*t.spills, f)
	return &spill{sizedFile: sizedFile{File: f}, sink: t, name: path.Join(t.prefix, rel)}, nil
}

// spill is a file of a tarSink being written.
type spill struct {
	sizedFile
	sink *tarSink
	name string
}

// Close copies the finished file into the tar stream and removes it.
func (s *spill) Close() error {
	t := s.sink
	for i, f := range *t.spills {
		if f == s.File {
			*t.spills = append((*t.spills)[:i], (*t.spills)[i+1:]...)
			break
		}
	}
	defer os.Remove(s.File.Name())
	defer s.File.Close()
	if _, err := s.File.Seek(0, io.SeekStart); err != nil {
		return err
	}
	hdr := &tar.Header{Name: s.name, Mode: 0o644, Size: s.n, ModTime: time.Now(), Typeflag: tar.TypeReg}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(t.tw, s.File)
	if err == nil && n != s.n {
		err = fmt.Errorf("demos: %s: copied %d of %d bytes", s.name, n, s.n)
	}
	return err
}
