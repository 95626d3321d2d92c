package sim

import "github.com/ByteArena/box2d"

// The Box2D library fills its contact-type table lazily, writing package
// globals without a lock the first time any world creates a contact. Worlds
// stepped in parallel (Rollout, many live sessions) would race on it, so the
// kernel creates one contact at start-up, before any task can run.
//
// The library also counts distance (GJK) queries in unguarded globals; those
// run during continuous collision (time of impact) and sensor overlap
// tests. Tasks whose worlds run continuous collision (the surgical tasks;
// docs/benchmarks.md lists them) therefore share one benign counter race
// between parallel worlds. sim/b2step's own time-of-impact loop no longer
// touches the library's time-of-impact statistics, only B2Distance's
// counters.
func init() {
	w := box2d.MakeB2World(box2d.MakeB2Vec2(0, 0))
	var shape box2d.B2CircleShape = box2d.MakeB2CircleShape()
	shape.M_radius = 1
	for i := range 2 {
		def := box2d.MakeB2BodyDef()
		def.Type = box2d.B2BodyType.B2_dynamicBody
		def.Position = box2d.MakeB2Vec2(float64(i)*0.5, 0)
		w.CreateBody(&def).CreateFixture(&shape, 1)
	}
	w.Step(1.0/60, 1, 1)
}
