package web

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"tandem/foxglove"
	"tandem/sim"
)

// subscribe adds subscription id on channel; it reports false, saying
// nothing, when the connection holds MaxFoxSubs already (the caller
// answers once per message, not once per refused subscription).
func (fc *foxClient) subscribe(id, channel uint32) bool {
	fc.mu.Lock()
	if len(fc.subs) >= fc.hub.srv.cfg.MaxFoxSubs {
		fc.mu.Unlock()
		fc.hub.srv.metrics.rejected.WithLabelValues(codeTooLarge).Inc()
		return false
	}
	ch, ok := fc.chans[channel]
	_, dup := fc.subs[id]
	if !ok || dup {
		fc.mu.Unlock()
		if dup {
			fc.status(2, fmt.Sprintf("subscription id %d is already in use", id))
		} else {
			fc.status(2, fmt.Sprintf("unknown channel %d", channel))
		}
		return true
	}
	fc.subs[id] = ch
	var sub *sim.Subscription
	if fc.pumps[ch.sess.id] == nil {
		sub = ch.sess.sess.Subscribe(8)
		fc.pumps[ch.sess.id] = sub
	}
	fc.mu.Unlock()
	if sub != nil {
		ch.sess.foxAttach(1) // the idle rule sees a Foxglove watcher
		go fc.pump(ch.sess, sub)
	}
	return true
}

func (fc *foxClient) unsubscribe(id uint32) {
	fc.mu.Lock()
	ch, ok := fc.subs[id]
	delete(fc.subs, id)
	var stop *sim.Subscription
	if ok {
		still := false
		for _, c := range fc.subs {
			still = still || c.sess == ch.sess
		}
		if !still {
			stop = fc.pumps[ch.sess.id]
			delete(fc.pumps, ch.sess.id)
		}
	}
	fc.mu.Unlock()
	if stop != nil {
		stop.Close()
	}
}

// pump turns a session's records into messages for this client's
// subscriptions on that session until the subscription closes.
func (fc *foxClient) pump(sess *view, sub *sim.Subscription) {
	defer sess.foxAttach(-1)
	sc := newFoxScene(sess)
	for r := range sub.C {
		fc.send(sc, r)
	}
}

// send queues record r's messages for every subscription on sc's
// session. The scene is built by sc's Builder, and each other kind
// encoded, at most once per record whatever the number of subscriptions.
// Called from the pump goroutine only.
func (fc *foxClient) send(sc *foxScene, r *sim.Record) {
	sess := sc.sess
	targets := sc.targets[:0]
	fc.mu.Lock()
	for id, ch := range fc.subs {
		if ch.sess == sess {
			targets = append(targets, foxTarget{id, ch.kind})
		}
	}
	fc.mu.Unlock()
	sc.targets = targets
	sc.begin()
	var other [3][]byte // state, action, events of r, encoded on first use
	var otherDone [3]bool
	ts := uint64(r.Wall.UnixNano())
	for _, t := range targets {
		var payload []byte
		if t.kind == "scene" {
			payload = sc.payload(t.id, r)
		} else {
			k := foxKindIndex(t.kind)
			if !otherDone[k] {
				other[k], otherDone[k] = foxPayload(sess, r, t.kind), true
			}
			payload = other[k]
		}
		if payload == nil {
			continue
		}
		b := make([]byte, 13, 13+len(payload))
		b[0] = 0x01
		binary.LittleEndian.PutUint32(b[1:], t.id)
		binary.LittleEndian.PutUint64(b[5:], ts)
		fc.enqueue(outMsg{binary: true, b: append(b, payload...)})
	}
	sc.end()
}

// foxTarget is one subscription a record goes to.
type foxTarget struct {
	id   uint32
	kind string
}

// foxKindIndex numbers the channel kinds other than scene.
func foxKindIndex(kind string) int {
	switch kind {
	case "state":
		return 0
	case "action":
		return 1
	}
	return 2 // events
}

// foxScene encodes one session's scene channel for one client: a full
// update for a subscription's first message and at each reset, per-step
// updates otherwise. Used by the client's pump goroutine only.
type foxScene struct {
	sess    *view
	b       *foxglove.Builder
	targets []foxTarget // this record's subscriptions, reused across records
	// sent holds the subscriptions that got a scene message of the
	// previous record, and sentNow those of this one: a subscription
	// missing from the previous record (new, resubscribed, or its
	// update failed) gets a full update.
	sent, sentNow map[uint32]bool
	full, step    []byte // this record's encodings, reused across records
	fullOK        bool   // full holds this record's full update
	stepOK        bool
}

func newFoxScene(sess *view) *foxScene {
	return &foxScene{sess: sess, b: foxglove.NewBuilder(sess.scene, sess.spec.Units), sent: map[uint32]bool{}, sentNow: map[uint32]bool{}}
}

// begin starts a new record.
func (s *foxScene) begin() { s.fullOK, s.stepOK = false, false }

// end finishes a record: the subscriptions it served are the ones that
// have had their full update.
func (s *foxScene) end() {
	s.sent, s.sentNow = s.sentNow, s.sent
	clear(s.sentNow)
}

// payload is the scene message of r for subscription id (nil when the
// poses cannot be encoded, e.g. NaN; the subscription then gets a full
// update next time).
func (s *foxScene) payload(id uint32, r *sim.Record) []byte {
	var err error
	if r.Kind == sim.ResetRecord || !s.sent[id] {
		if !s.fullOK {
			s.full, err = s.b.Full(r.Poses, r.Wall).AppendJSON(s.full[:0])
			s.fullOK = err == nil
		}
		if !s.fullOK {
			return nil
		}
		s.sentNow[id] = true
		return s.full
	}
	if !s.stepOK {
		s.step, err = s.b.Step(r.Poses, r.Wall).AppendJSON(s.step[:0])
		s.stepOK = err == nil
	}
	s.sentNow[id] = true // a failed step is skipped; the next one follows
	if !s.stepOK {
		return nil
	}
	return s.step
}

// foxPayload encodes one state, action or events message for a record
// (nil: nothing to send, as for events on a step without events). Scene
// messages come from foxScene.
func foxPayload(sess *view, r *sim.Record, kind string) []byte {
	t := stepsTaken(r)
	var v any
	switch kind {
	case "state":
		if r.Kind != sim.StepRecord && r.Kind != sim.ResetRecord {
			return nil // learning-rate channel: display sub-ticks go to the scene only
		}
		obs := map[string]float64{}
		o := r.Next.Slice()
		for i, n := range sess.spec.ObsNames {
			if i < len(o) && finite(o[i]) {
				obs[n] = o[i]
			}
		}
		v = map[string]any{"episode": r.Episode, "t": t, "kind": r.Kind, "source": r.Source, "operator": r.Operator,
			"policy_version": r.PolicyVersion, "reward": r.Reward, "return": r.Return, "success": r.Success,
			"done": r.Done(), "interventions": r.Interventions, "help": r.Help, "obs": obs,
			"mode": modeOf(r, sess.replay), "holder": holderOf(r, sess.replay), "paused": r.Paused}
	case "action":
		if r.Kind != sim.StepRecord {
			return nil
		}
		named := func(vec sim.Vec) map[string]float64 {
			out := map[string]float64{}
			for i, n := range sess.spec.ActionNames {
				if i < vec.Len() && finite(vec.At(i)) {
					out[n] = vec.At(i)
				}
			}
			return out
		}
		v = map[string]any{"episode": r.Episode, "t": t, "source": r.Source, "action": named(r.Action), "policy_action": named(r.PolicyAction)}
	case "events":
		var ev []string
		switch r.Kind {
		case sim.ResetRecord:
			ev = append(ev, "reset")
		case sim.StepRecord:
			if r.InterventionStart {
				ev = append(ev, "intervention_start")
			}
			if r.InterventionEnd {
				ev = append(ev, "intervention_end")
			}
			if r.Terminal {
				ev = append(ev, "terminal")
			}
			if r.Truncated {
				ev = append(ev, "truncated")
			}
		}
		if r.Label != nil {
			ev = append(ev, "label:"+r.Label.Outcome)
		}
		if len(ev) == 0 {
			return nil
		}
		v = map[string]any{"episode": r.Episode, "t": t, "events": ev}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
