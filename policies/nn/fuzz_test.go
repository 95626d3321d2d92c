package nn

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds damaged checkpoints (tensors and card) to Decode: it
// must return a model or an error, never panic or allocate without bound;
// a model it returns must act and survive an Encode/Decode round trip.
// Seeds: testdata/fuzz/FuzzDecode (written by TestWriteFuzzCorpus).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, tensors, card []byte) {
		m, c, err := Decode(tensors, card)
		if err != nil {
			return
		}
		obs, dst := make([]float64, m.ObsDim()), make([]float64, m.ActDim())
		m.NewPolicy().Act(obs, dst)
		t2, c2, err := Encode(m, *c)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, _, err := Decode(t2, c2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// TestWriteFuzzCorpus regenerates the checked-in seed corpus from the
// checkpoint test cases when TANDEM_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("TANDEM_WRITE_CORPUS") != "1" {
		t.Skip("set TANDEM_WRITE_CORPUS=1 to regenerate testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	os.MkdirAll(dir, 0o755)
	for i, c := range checkpointCases {
		c.cfg.Hidden = []int{4, 3}[:1+i%2] // small seeds mutate faster
		m, _ := trainedModel(t, c.cfg)
		tensors, card, err := Encode(m, testCard())
		if err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", tensors, card)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+c.name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		// A truncated copy, so the fuzzer starts from a failing path too.
		body = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", tensors[:len(tensors)/2], card)
		os.WriteFile(filepath.Join(dir, "seed-"+c.name+"-truncated"), []byte(body), 0o644)
	}
}
