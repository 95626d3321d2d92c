package foxglove

import (
	"strconv"
	"strings"
)

// Grey is the colour of a shape whose colour ParseColor cannot read.
var Grey = Color{R: 0.5, G: 0.5, B: 0.5, A: 1}

// UnitScale is the length of one task unit (sim.Spec.Units) in metres:
// "m" 1, "mm" 0.001, and 0.01 for "cm", for "px" (Push-T's pixels are
// drawn at 1 px = 1 cm) and for anything else.
func UnitScale(units string) float64 {
	switch strings.ToLower(strings.TrimSpace(units)) {
	case "m":
		return 1
	case "mm":
		return 0.001
	}
	return 0.01
}

// ParseColor reads a CSS colour: #rgb, #rrggbb, #rrggbbaa, rgb()/rgba()
// with numbers or percentages, or one of a few names. ok is false (and c
// is Grey) for anything else.
func ParseColor(s string) (c Color, ok bool) {
	s = strings.TrimSpace(strings.ToLower(s))
	if named, found := colorNames[s]; found {
		s = named
	}
	switch {
	case strings.HasPrefix(s, "#"):
		return parseHex(s[1:])
	case strings.HasPrefix(s, "rgb"):
		return parseRGB(s)
	}
	return Grey, false
}

func parseHex(h string) (Color, bool) {
	if len(h) == 3 || len(h) == 4 {
		long := make([]byte, 0, 8)
		for i := range len(h) {
			long = append(long, h[i], h[i])
		}
		h = string(long)
	}
	if len(h) != 6 && len(h) != 8 {
		return Grey, false
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return Grey, false
	}
	if len(h) == 6 {
		v = v<<8 | 0xff
	}
	return Color{R: float64(v>>24&0xff) / 255, G: float64(v>>16&0xff) / 255,
		B: float64(v>>8&0xff) / 255, A: float64(v&0xff) / 255}, true
}

func parseRGB(s string) (Color, bool) {
	open, end := strings.IndexByte(s, '('), strings.IndexByte(s, ')')
	if open < 0 || end < open {
		return Grey, false
	}
	parts := strings.FieldsFunc(s[open+1:end], func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
	if len(parts) < 3 || len(parts) > 4 {
		return Grey, false
	}
	c := Color{A: 1}
	vals := [4]*float64{&c.R, &c.G, &c.B, &c.A}
	for i, p := range parts {
		pct := strings.HasSuffix(p, "%")
		v, err := strconv.ParseFloat(strings.TrimSuffix(p, "%"), 64)
		if err != nil {
			return Grey, false
		}
		switch {
		case pct:
			v /= 100
		case i < 3:
			v /= 255
		}
		*vals[i] = min(max(v, 0), 1)
	}
	return c, true
}

// colorNames are the CSS named colours tandem's tasks use.
var colorNames = map[string]string{
	"black": "#000000", "white": "#ffffff", "red": "#ff0000", "green": "#008000", "blue": "#0000ff",
	"yellow": "#ffff00", "orange": "#ffa500", "gray": "#808080", "grey": "#808080", "purple": "#800080",
	"pink": "#ffc0cb", "cyan": "#00ffff", "magenta": "#ff00ff", "brown": "#a52a2a",
	"lightgray": "#d3d3d3", "lightgrey": "#d3d3d3", "darkgray": "#a9a9a9", "darkgrey": "#a9a9a9",
	"steelblue": "#4682b4", "slategray": "#708090", "tomato": "#ff6347", "gold": "#ffd700",
	"limegreen": "#32cd32", "crimson": "#dc143c", "salmon": "#fa8072", "royalblue": "#4169e1",
	"seagreen": "#2e8b57", "transparent": "#00000000",
}
