package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tandem/demos"
)

// TestExportsStream: both export formats go straight into the response.
// While a client reads nothing, a download (larger than the socket
// buffers) is in flight: an MCAP one with nothing written to the data
// directory, a LeRobot one holding no more than its two open files there.
// Read to the end they are whole (the MCAP imports into a fresh store,
// the archive holds the datasets), and nothing is left behind, also when
// the client leaves mid-way.
func TestExportsStream(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, func(c *Config) {
		c.NoStore, c.DataDir = false, dir
		c.SocketBuffer = 4096
	})
	ts.tick("s1", 250)
	eventually(t, "six episodes committed", func() bool { return len(ts.episodes("complete=true")) == 6 })
	// A client with a tiny receive buffer that reads only when told.
	tr := &http.Transport{DialContext: smallReadBufferDial}
	defer tr.CloseIdleConnections()
	exports := filepath.Join(dir, exportDir)
	filesUnder := func() (n int) {
		filepath.WalkDir(exports, func(_ string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	for _, format := range []string{"mcap", "lerobot"} {
		t.Run(format, func(t *testing.T) {
			if format == "lerobot" {
				// Enough episodes that the archive, too, outgrows the
				// socket buffers: the poller sees the export's files
				// while it waits for the client.
				addExpertEpisodes(t, ts.Hub().Store(), "push-t", 60)
			}
			req, _ := http.NewRequest("GET", ts.URL()+"/api/episodes/export?complete=true&format="+format, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("status %d, Content-Disposition %q; want 200 and an attachment", resp.StatusCode, resp.Header.Get("Content-Disposition"))
			}
			// The most files DATA/exports held during the download.
			most := make(chan int)
			stop := make(chan struct{})
			go func() {
				m := 0
				for {
					m = max(m, filesUnder())
					select {
					case <-stop:
						most <- m
						return
					case <-time.After(time.Millisecond):
					}
				}
			}()
			// The download outgrows the socket buffers: it waits for the
			// client, in flight.
			eventually(t, "the export in flight", func() bool { return metricValue(ts.metrics.exports) == 1 })
			time.Sleep(100 * time.Millisecond)
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			close(stop)
			if n := <-most; format == "mcap" && n != 0 || format == "lerobot" && (n < 1 || n > 2) {
				t.Errorf("%s download: DATA/exports held up to %d files; want %s", format, n, map[string]string{"mcap": "none", "lerobot": "1 or 2 (the files in the stream)"}[format])
			}
			eventually(t, "the export done", func() bool { return metricValue(ts.metrics.exports) == 0 })
			if n := filesUnder(); n != 0 {
				t.Errorf("%d files left under DATA/exports", n)
			}
			if format == "lerobot" {
				names := tarNames(t, bytes.NewReader(body))
				if len(names) < 5 || !strings.HasSuffix(names[len(names)-1], "/meta/info.json") {
					t.Errorf("archive entries %v; want the dataset ending with meta/info.json", names)
				}
				return
			}
			path := filepath.Join(t.TempDir(), "x.mcap")
			os.WriteFile(path, body, 0o644)
			dst, err := demos.Open(context.Background(), t.TempDir(), demos.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			res, err := demos.ImportMCAP(context.Background(), dst, path, nil)
			if err != nil || len(res.IDs) != 6 {
				t.Errorf("import of the streamed MCAP: %d episodes, %v; want 6", len(res.IDs), err)
			}
		})
	}
	// A client that leaves mid-way: the export stops, and ends.
	req, _ := http.NewRequest("GET", ts.URL()+"/api/episodes/export?complete=true&format=mcap", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the export in flight", func() bool { return metricValue(ts.metrics.exports) == 1 })
	resp.Body.Close()
	tr.CloseIdleConnections()
	eventually(t, "the abandoned export ended", func() bool { return metricValue(ts.metrics.exports) == 0 && filesUnder() == 0 })
}
