package foxglove

import (
	"errors"
	"math"
	"strconv"
)

// ErrNotFinite reports a NaN or infinite number, which JSON cannot carry.
var ErrNotFinite = errors.New("foxglove: scene has a NaN or infinite number")

// AppendJSON appends u encoded as JSON to dst, with every SceneEntity array
// present (unused kinds as []), and returns the extended buffer. It does
// not allocate beyond growing dst. A NaN or infinite number gives
// ErrNotFinite and dst unchanged.
func (u *SceneUpdate) AppendJSON(dst []byte) ([]byte, error) {
	e := encoder{b: dst}
	e.raw(`{"deletions":[`)
	for i := range u.Deletions {
		d := &u.Deletions[i]
		e.sep(i)
		e.raw(`{"timestamp":`)
		e.time(d.Timestamp)
		e.raw(`,"type":`)
		e.int(d.Type)
		e.raw(`,"id":`)
		e.str(d.ID)
		e.raw(`}`)
	}
	e.raw(`],"entities":[`)
	for i := range u.Entities {
		e.sep(i)
		e.entity(&u.Entities[i])
	}
	e.raw(`]}`)
	if e.bad {
		return dst, ErrNotFinite
	}
	return e.b, nil
}

// MarshalJSON encodes u as AppendJSON does.
func (u *SceneUpdate) MarshalJSON() ([]byte, error) { return u.AppendJSON(nil) }

type encoder struct {
	b   []byte
	bad bool
}

func (e *encoder) raw(s string) { e.b = append(e.b, s...) }

func (e *encoder) sep(i int) {
	if i > 0 {
		e.b = append(e.b, ',')
	}
}

func (e *encoder) int(v int) { e.b = strconv.AppendInt(e.b, int64(v), 10) }

func (e *encoder) num(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.bad = true
		v = 0
	}
	e.b = strconv.AppendFloat(e.b, v, 'g', -1, 64)
}

// str writes s as a JSON string: quote, backslash and control bytes are
// escaped; other bytes are copied as they are.
func (e *encoder) str(s string) {
	const hex = "0123456789abcdef"
	e.b = append(e.b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			e.b = append(e.b, '\\', c)
		case c < 0x20:
			e.b = append(e.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			e.b = append(e.b, c)
		}
	}
	e.b = append(e.b, '"')
}

func (e *encoder) bool(v bool) { e.b = strconv.AppendBool(e.b, v) }

func (e *encoder) time(t Time) {
	e.raw(`{"sec":`)
	e.b = strconv.AppendUint(e.b, uint64(t.Sec), 10)
	e.raw(`,"nsec":`)
	e.b = strconv.AppendUint(e.b, uint64(t.Nsec), 10)
	e.raw(`}`)
}

func (e *encoder) vec(v Vector3) {
	e.raw(`{"x":`)
	e.num(v.X)
	e.raw(`,"y":`)
	e.num(v.Y)
	e.raw(`,"z":`)
	e.num(v.Z)
	e.raw(`}`)
}

func (e *encoder) pose(p *Pose) {
	e.raw(`{"position":`)
	e.vec(p.Position)
	q := p.Orientation
	e.raw(`,"orientation":{"x":`)
	e.num(q.X)
	e.raw(`,"y":`)
	e.num(q.Y)
	e.raw(`,"z":`)
	e.num(q.Z)
	e.raw(`,"w":`)
	e.num(q.W)
	e.raw(`}}`)
}

func (e *encoder) color(c Color) {
	e.raw(`{"r":`)
	e.num(c.R)
	e.raw(`,"g":`)
	e.num(c.G)
	e.raw(`,"b":`)
	e.num(c.B)
	e.raw(`,"a":`)
	e.num(c.A)
	e.raw(`}`)
}

func (e *encoder) points(pts []Vector3) {
	e.raw(`[`)
	for i, p := range pts {
		e.sep(i)
		e.vec(p)
	}
	e.raw(`]`)
}

func (e *encoder) colors(cs []Color) {
	e.raw(`[`)
	for i, c := range cs {
		e.sep(i)
		e.color(c)
	}
	e.raw(`]`)
}

func (e *encoder) indices(ix []uint32) {
	e.raw(`[`)
	for i, v := range ix {
		e.sep(i)
		e.b = strconv.AppendUint(e.b, uint64(v), 10)
	}
	e.raw(`]`)
}

func (e *encoder) entity(en *Entity) {
	e.raw(`{"timestamp":`)
	e.time(en.Timestamp)
	e.raw(`,"frame_id":`)
	e.str(en.FrameID)
	e.raw(`,"id":`)
	e.str(en.ID)
	e.raw(`,"lifetime":`)
	e.time(en.Lifetime)
	e.raw(`,"frame_locked":`)
	e.bool(en.FrameLocked)
	e.raw(`,"metadata":[`)
	for i, kv := range en.Metadata {
		e.sep(i)
		e.raw(`{"key":`)
		e.str(kv.Key)
		e.raw(`,"value":`)
		e.str(kv.Value)
		e.raw(`}`)
	}
	e.raw(`],"cylinders":[`)
	for i := range en.Cylinders {
		c := &en.Cylinders[i]
		e.sep(i)
		e.raw(`{"pose":`)
		e.pose(&c.Pose)
		e.raw(`,"size":`)
		e.vec(c.Size)
		e.raw(`,"bottom_scale":`)
		e.num(c.BottomScale)
		e.raw(`,"top_scale":`)
		e.num(c.TopScale)
		e.raw(`,"color":`)
		e.color(c.Color)
		e.raw(`}`)
	}
	e.raw(`],"lines":[`)
	for i := range en.Lines {
		l := &en.Lines[i]
		e.sep(i)
		e.raw(`{"type":`)
		e.int(l.Type)
		e.raw(`,"pose":`)
		e.pose(&l.Pose)
		e.raw(`,"thickness":`)
		e.num(l.Thickness)
		e.raw(`,"scale_invariant":`)
		e.bool(l.ScaleInvariant)
		e.raw(`,"points":`)
		e.points(l.Points)
		e.raw(`,"color":`)
		e.color(l.Color)
		e.raw(`,"colors":`)
		e.colors(l.Colors)
		e.raw(`,"indices":`)
		e.indices(l.Indices)
		e.raw(`}`)
	}
	e.raw(`],"triangles":[`)
	for i := range en.Triangles {
		t := &en.Triangles[i]
		e.sep(i)
		e.raw(`{"pose":`)
		e.pose(&t.Pose)
		e.raw(`,"points":`)
		e.points(t.Points)
		e.raw(`,"color":`)
		e.color(t.Color)
		e.raw(`,"colors":`)
		e.colors(t.Colors)
		e.raw(`,"indices":`)
		e.indices(t.Indices)
		e.raw(`}`)
	}
	e.raw(`],"arrows":[],"cubes":[],"spheres":[],"texts":[],"models":[]}`)
}
