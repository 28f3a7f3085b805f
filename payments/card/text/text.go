// Package text shapes and draws short lines of Khmer and Latin text, mixed
// freely, for the images the bot makes (payment cards, charts).
//
// Shaping is real OpenType shaping by github.com/go-text/typesetting, a pure-Go
// port of HarfBuzz: Khmer subscripts (coeng), split and reordered vowels and
// stacked marks come out as a Khmer reader expects. Khmer is drawn with the
// embedded Noto Sans Khmer (SIL Open Font License, fonts/OFL.txt); everything
// else with the Go fonts (BSD), which also serve as the fallback for any rune
// the Khmer font lacks.
//
// Typical use:
//
//	f, err := text.NewFace(text.Bold, 28) // 28 px
//	...
//	w := f.Measure("ប្រាក់ចំណូល")             // advance width in pixels
//	f.Draw(img, color.Black, x, y, "ប្រាក់ចំណូល") // baseline starts at (x, y)
//
// Parsed fonts are shared, and shaped lines are cached with their coverage
// mask, so drawing the same words again costs a map look-up and a blit. A
// Face and a Line are safe for concurrent use.
package text

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/math/fixed"
)

//go:embed fonts/NotoSansKhmer-Regular.ttf
var khmerRegular []byte

//go:embed fonts/NotoSansKhmer-Bold.ttf
var khmerBold []byte

// Weight picks a pair of fonts: a Latin one and the Khmer one drawn with it.
type Weight uint8

// The weights. Noto Sans Khmer comes in regular and bold only: Medium and
// Mono draw their Khmer in regular.
const (
	Regular Weight = iota // Go Regular, Noto Sans Khmer Regular
	Medium                // Go Medium, Noto Sans Khmer Regular
	Bold                  // Go Bold, Noto Sans Khmer Bold
	Mono                  // Go Mono Bold (for hashes and codes), Noto Sans Khmer Regular
	weights
)

// Ellipsis ends text shortened to fit.
const Ellipsis = "…"

// maxRunes bounds what is shaped: far more than any line the images hold,
// so that a huge string costs no more than a long one.
const maxRunes = 400

// engine holds the parsed fonts and the shaper. go-text's faces and shaper
// are not safe for concurrent use, so mu guards all of them.
type engine struct {
	mu       sync.Mutex
	latin    [weights]*font.Face
	khmer    [weights]*font.Face
	shaper   shaping.HarfbuzzShaper
	seg      shaping.Segmenter
	outlines map[outlineKey][]outlineSeg
}

type outlineKey struct {
	f   *font.Face
	gid font.GID
}

// outlineSeg is one outline segment in font units, y up.
type outlineSeg struct {
	op  uint8 // 0 move, 1 line, 2 quad, 3 cube
	pts [3][2]float32
}

var loadEngine = sync.OnceValues(func() (*engine, error) {
	parse := func(name string, b []byte) (*font.Face, error) {
		f, err := font.ParseTTF(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("text: parse font %s: %w", name, err)
		}
		return f, nil
	}
	e := &engine{outlines: make(map[outlineKey][]outlineSeg)}
	var err error
	for _, f := range []struct {
		dst  **font.Face
		name string
		ttf  []byte
	}{
		{&e.latin[Regular], "Go Regular", goregular.TTF},
		{&e.latin[Medium], "Go Medium", gomedium.TTF},
		{&e.latin[Bold], "Go Bold", gobold.TTF},
		{&e.latin[Mono], "Go Mono Bold", gomonobold.TTF},
		{&e.khmer[Regular], "Noto Sans Khmer Regular", khmerRegular},
		{&e.khmer[Bold], "Noto Sans Khmer Bold", khmerBold},
	} {
		if *f.dst, err = parse(f.name, f.ttf); err != nil {
			return nil, err
		}
	}
	e.khmer[Medium], e.khmer[Mono] = e.khmer[Regular], e.khmer[Regular]
	return e, nil
})

// fontmap picks the font for each rune: Khmer runs in the Khmer font, the
// rest in the Latin font, each falling back to the other for a rune it lacks.
type fontmap struct {
	latin, khmer *font.Face
	script       language.Script
}

func (m *fontmap) SetScript(s language.Script) { m.script = s }

func (m *fontmap) ResolveFace(r rune) *font.Face {
	first, second := m.latin, m.khmer
	if m.script == language.Khmer {
		first, second = m.khmer, m.latin
	}
	if _, ok := first.NominalGlyph(r); ok {
		return first
	}
	if _, ok := second.NominalGlyph(r); ok {
		return second
	}
	return m.latin // draws .notdef, which Line.Notdef reports
}

// Face draws text in one weight at one pixel size.
type Face struct {
	e     *engine
	w     Weight
	size  fixed.Int26_6
	px    float32
	m     Metrics
	cache *lineCache
}

// Metrics are a face's vertical measures in whole pixels, all positive.
type Metrics struct {
	Ascent    int // the fonts' room above the baseline, Khmer vowels included
	Descent   int // the fonts' room below the baseline, Khmer subscripts included
	CapHeight int // height of a Latin capital: centre a strike-through on CapHeight/2
}

// NewFace returns a face of weight w, px pixels high (the em size). It fails
// only if the embedded fonts cannot be parsed, or px is not in (0, 1000].
func NewFace(w Weight, px float64) (*Face, error) {
	if w >= weights {
		return nil, fmt.Errorf("text: weight %d: want Regular, Medium, Bold or Mono", w)
	}
	if !(px > 0 && px <= 1000) {
		return nil, fmt.Errorf("text: size %v px: want more than 0 and at most 1000", px)
	}
	e, err := loadEngine()
	if err != nil {
		return nil, err
	}
	f := &Face{e: e, w: w, size: fixed.Int26_6(px * 64), px: float32(px), cache: newLineCache()}
	scale := func(ff *font.Face) float32 { return f.px / float32(ff.Upem()) }
	for _, ff := range []*font.Face{e.latin[w], e.khmer[w]} {
		ext, _ := ff.FontHExtents()
		f.m.Ascent = max(f.m.Ascent, ceil(ext.Ascender*scale(ff)))
		f.m.Descent = max(f.m.Descent, ceil(-ext.Descender*scale(ff)))
	}
	f.m.CapHeight = round(e.latin[w].LineMetric(font.CapHeight) * scale(e.latin[w]))
	return f, nil
}

// Metrics returns f's vertical measures.
func (f *Face) Metrics() Metrics { return f.m }

// Measure returns the advance width of s in pixels, rounded up.
func (f *Face) Measure(s string) int { return f.Shape(s).Width() }

// width measures s like Measure, without caching s: for the many
// candidate prefixes that Fit and Wrap try.
func (f *Face) width(s string) int {
	if l := f.cache.get(s); l != nil {
		return l.Width()
	}
	return f.shape(s).Width()
}

// fits reports whether s fits in room pixels. A line that fits is cached, as
// Shape would: the callers of Fit and Wrap shape the text they get back, and
// most often it is s whole.
func (f *Face) fits(s string, room int) bool {
	if l := f.cache.get(s); l != nil {
		return l.Width() <= room
	}
	l := f.shape(s)
	if l.Width() > room {
		return false
	}
	f.cache.put(s, l)
	return true
}

// Draw draws s in c with its baseline starting at (x, y).
func (f *Face) Draw(dst draw.Image, c color.Color, x, y int, s string) {
	f.Shape(s).Draw(dst, c, x, y)
}

// Shape shapes s into a Line. Lines are cached: shaping the same words again
// is cheap. Only the first few hundred runes of s are shaped.
func (f *Face) Shape(s string) *Line {
	if l := f.cache.get(s); l != nil {
		return l
	}
	l := f.shape(s)
	f.cache.put(s, l)
	return l
}

// Line is shaped text, ready to measure and draw. Its coverage mask is
// rasterized on first use, so measuring costs no rasterizing. It is safe for
// concurrent use.
type Line struct {
	text    string
	advance fixed.Int26_6
	notdef  int
	glyphs  int
	e       *engine
	placed  []placed        // glyphs with ink
	ink     image.Rectangle // their bounds, from the pen position

	once sync.Once
	mask *image.Alpha // coverage; nil when nothing is inked
	at   image.Point  // the mask's top-left, from the pen position on the baseline
}

// placed is a glyph with ink, where shaping put it.
type placed struct {
	face        *font.Face
	gid         font.GID
	x, y, scale float32 // pen position in pixels, y down from the baseline; pixels per font unit
}

// Text returns the text the line was shaped from.
func (l *Line) Text() string { return l.text }

// Width returns the advance width in pixels, rounded up.
func (l *Line) Width() int { return l.advance.Ceil() }

// Notdef returns how many .notdef glyphs ("tofu" boxes) the line holds:
// runes none of the fonts can draw. Zero for any text the fonts cover.
func (l *Line) Notdef() int { return l.notdef }

// Glyphs returns how many glyphs shaping made.
func (l *Line) Glyphs() int { return l.glyphs }

// Mask returns the line's coverage and where its top-left corner lies
// relative to the pen position on the baseline; nil when nothing is inked
// (spaces, empty text). Callers must not change it.
func (l *Line) Mask() (*image.Alpha, image.Point) {
	l.once.Do(l.rasterize)
	return l.mask, l.at
}

// Draw draws l in c with its baseline starting at (x, y).
func (l *Line) Draw(dst draw.Image, c color.Color, x, y int) {
	m, at := l.Mask()
	if m == nil {
		return
	}
	r := m.Bounds().Add(image.Pt(x, y).Add(at))
	draw.DrawMask(dst, r, image.NewUniform(c), image.Point{}, m, image.Point{}, draw.Over)
}

// shape runs the shaper on s.
func (f *Face) shape(s string) *Line {
	runes := make([]rune, 0, min(len(s), maxRunes))
	for _, r := range s {
		if len(runes) == maxRunes {
			break
		}
		runes = append(runes, r)
	}
	l := &Line{text: string(runes), e: f.e}
	if len(runes) == 0 {
		return l
	}
	e := f.e
	e.mu.Lock()
	defer e.mu.Unlock()
	fm := &fontmap{latin: e.latin[f.w], khmer: e.khmer[f.w]}
	in := shaping.Input{Text: runes, RunEnd: len(runes), Direction: di.DirectionLTR, Size: f.size, Language: language.NewLanguage("km")}
	var pen fixed.Int26_6
	for _, run := range e.seg.Split(in, fm) {
		out := e.shaper.Shape(run)
		scale := f.px / float32(out.Face.Upem())
		for _, g := range out.Glyphs {
			l.glyphs++
			if g.GlyphID == 0 {
				l.notdef++
			}
			x, y := pen+g.XOffset, -g.YOffset
			b := image.Rect((x + g.XBearing).Floor(), (y - g.YBearing).Floor(), (x + g.XBearing + g.Width).Ceil(), (y - g.YBearing - g.Height).Ceil())
			if !b.Empty() {
				l.ink = l.ink.Union(b)
				l.placed = append(l.placed, placed{out.Face, g.GlyphID, fx(x), fx(y), scale})
			}
			pen += g.Advance
		}
	}
	l.advance = pen
	return l
}

// rasterize fills l.mask with the outlines of its glyphs.
func (l *Line) rasterize() {
	if l.ink.Empty() {
		return
	}
	outlines := make([][]outlineSeg, len(l.placed))
	l.e.mu.Lock()
	for i, g := range l.placed {
		outlines[i] = l.e.outline(g.face, g.gid)
	}
	l.e.mu.Unlock()
	ink := l.ink.Inset(-1)
	z := newRasterizer(ink)
	for i, g := range l.placed {
		z.glyph(outlines[i], g.x, g.y, g.scale)
	}
	l.mask, l.at = z.mask(), ink.Min
}

// outline returns the outline of gid in f, cached; e.mu must be held.
func (e *engine) outline(f *font.Face, gid font.GID) []outlineSeg {
	k := outlineKey{f, gid}
	if o, ok := e.outlines[k]; ok {
		return o
	}
	o, _ := f.GlyphDataOutline(gid)
	segs := make([]outlineSeg, len(o.Segments))
	for i, s := range o.Segments {
		segs[i].op = uint8(s.Op)
		for j, p := range s.Args {
			segs[i].pts[j] = [2]float32{p.X, p.Y}
		}
	}
	e.outlines[k] = segs
	return segs
}

// Fit returns s if it fits in room pixels, else its longest prefix that fits,
// cut between whole characters, followed by Ellipsis.
func (f *Face) Fit(s string, room int) string {
	s = clip(s)
	if f.fits(s, room) {
		return s
	}
	return f.cut(s, room, Ellipsis)
}

// Wrap breaks s into at most maxLines lines of at most room pixels: at spaces
// where it can, else between whole characters (Khmer writes no spaces between
// words). Text left over after the last line is replaced by Ellipsis.
func (f *Face) Wrap(s string, room, maxLines int) []string {
	s = strings.TrimSpace(clip(s))
	var lines []string
	for s != "" && len(lines) < maxLines {
		if f.fits(s, room) {
			return append(lines, s)
		}
		if len(lines) == maxLines-1 {
			return append(lines, f.cut(s, room, Ellipsis))
		}
		line := f.breakAt(s, room)
		lines = append(lines, strings.TrimSpace(line))
		s = strings.TrimSpace(s[len(line):])
	}
	return lines
}

// breakAt returns the longest prefix of s that fits in room and ends at a
// space, or, without one, the longest that ends between whole characters;
// never empty while s is not.
func (f *Face) breakAt(s string, room int) string {
	best := ""
	for i, r := range s {
		if (r == ' ' || r == '\u200b') && i > 0 {
			if f.width(s[:i]) > room {
				break
			}
			best = s[:i+utf8.RuneLen(r)]
		}
	}
	if best != "" {
		return best
	}
	return f.cut(s, room, "")
}

// cut returns the longest prefix of s ending between whole characters whose
// width with tail fits in room, followed by tail; at least one character.
func (f *Face) cut(s string, room int, tail string) string {
	b := boundaries(s)
	lo, hi := 1, len(b)-1 // b[0] is 0; b[lo] always kept
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if f.width(strings.TrimRight(s[:b[mid]], " ")+tail) <= room {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if len(b) < 2 {
		return tail
	}
	return strings.TrimRight(s[:b[lo]], " ") + tail
}

// boundaries returns the byte offsets in s where it may be cut without
// breaking a character apart: never before a combining mark or joiner, and
// never after a Khmer coeng (U+17D2), which joins the next consonant below.
func boundaries(s string) []int {
	b := []int{0}
	prev := rune(-1)
	for i, r := range s {
		if i > 0 && !unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me) && r != '\u200d' && r != '\u200c' &&
			prev != '\u17d2' && prev != '\u200d' {
			b = append(b, i)
		}
		prev = r
	}
	return append(b, len(s))
}

// clip keeps the first maxRunes runes of s.
func clip(s string) string {
	n := 0
	for i := range s {
		if n == maxRunes {
			return s[:i]
		}
		n++
	}
	return s
}

// Clean makes untrusted text drawable: line breaks and tabs become spaces,
// runs of spaces collapse, and runes none of the fonts can draw (emoji,
// other scripts, control characters, invalid UTF-8) are dropped, so that a
// name never shows tofu boxes. Only the first few hundred runes are kept.
func Clean(s string) (string, error) {
	e, err := loadEngine()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	space := true // drops leading spaces
	n := 0
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range s {
		if n == maxRunes {
			break
		}
		switch {
		case unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
				space = true
				n++
			}
			continue
		case r == '\u200b' || r == '\u200c' || r == '\u200d':
			// zero-width space and joiners steer Khmer breaking and shaping
		case r == utf8.RuneError || !unicode.IsPrint(r):
			continue
		default:
			if _, ok := e.latin[Regular].NominalGlyph(r); !ok {
				if _, ok := e.khmer[Regular].NominalGlyph(r); !ok {
					continue
				}
			}
		}
		b.WriteRune(r)
		space = false
		n++
	}
	return strings.Trim(b.String(), " \u200b\u200c\u200d"), nil
}

func fx(v fixed.Int26_6) float32 { return float32(v) / 64 }

func ceil(v float32) int {
	i := int(v)
	if float32(i) < v {
		i++
	}
	return i
}

func round(v float32) int { return int(v + 0.5) }
