package web

import (
	"bytes"
	"encoding/binary"
	"testing"

	"tandem/foxglove"
	"tandem/sim"
)

// TestFoxgloveSendFullThenSteps: each scene subscription gets a full
// update first, after a reset and after it was gone for a record, step
// updates otherwise; the other channels get the same encoding however
// many subscriptions share them.
func TestFoxgloveSendFullThenSteps(t *testing.T) {
	sess := &view{spec: dotSpec, scene: (&dotTask{}).Scene()}
	ch := func(kind string) *foxChannel { return &foxChannel{sess: sess, kind: kind} }
	fc := &foxClient{subs: map[uint32]*foxChannel{1: ch("scene"), 2: ch("scene"), 3: ch("state"), 4: ch("state")},
		sendQueue: newSendQueue(foxQueue, 0)}
	sc := newFoxScene(sess)
	r := &sim.Record{Kind: sim.StepRecord, Episode: 1, Wall: testStart, Poses: []sim.Pose{{X: 1, Y: 2}, {X: 5, Y: 5}}}
	r.Next.Set([]float64{1, 2, 5, 5})
	b := foxglove.NewBuilder(sess.scene, sess.spec.Units)
	full, _ := b.Full(r.Poses, r.Wall).AppendJSON(nil)
	step, _ := b.Step(r.Poses, r.Wall).AppendJSON(nil)
	if bytes.Equal(full, step) {
		t.Fatal("full and step updates encode alike; the test cannot tell them apart")
	}
	// sent returns the payload each subscription got for one record.
	sent := func() map[uint32][]byte {
		fc.send(sc, r)
		got := map[uint32][]byte{}
		for {
			m, ok := fc.pop()
			if !ok {
				return got
			}
			got[binary.LittleEndian.Uint32(m.b[1:])] = m.b[13:]
		}
	}
	want := func(what string, got map[uint32][]byte, scene map[uint32][]byte) {
		t.Helper()
		for id, p := range scene {
			if !bytes.Equal(got[id], p) {
				kind := "step"
				if bytes.Equal(p, full) {
					kind = "full"
				}
				t.Errorf("%s: subscription %d got %.60s; want the %s update", what, id, got[id], kind)
			}
		}
		if got[3] == nil || !bytes.Equal(got[3], got[4]) {
			t.Errorf("%s: state subscriptions got %.60s and %.60s; want one state message for both", what, got[3], got[4])
		}
	}
	want("first record", sent(), map[uint32][]byte{1: full, 2: full})
	want("second record", sent(), map[uint32][]byte{1: step, 2: step})
	delete(fc.subs, 2)
	sent()
	fc.subs[2], fc.subs[5] = ch("scene"), ch("scene")
	want("resubscribed and new", sent(), map[uint32][]byte{1: step, 2: full, 5: full})
	r.Kind = sim.ResetRecord
	want("reset", sent(), map[uint32][]byte{1: full, 2: full, 5: full})
}
