package text

import (
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"
	"testing"
)

func face(t testing.TB, w Weight, px float64) *Face {
	t.Helper()
	f, err := NewFace(w, px)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewFaceRejects(t *testing.T) {
	for _, tc := range []struct {
		w  Weight
		px float64
	}{{weights, 20}, {Regular, 0}, {Regular, -1}, {Bold, 1e6}} {
		if _, err := NewFace(tc.w, tc.px); err == nil {
			t.Errorf("NewFace(%d, %v) succeeded", tc.w, tc.px)
		}
	}
}

// TestShapesKhmer checks that Khmer is shaped, not drawn rune by rune: a
// coeng and its consonant become one subscript glyph, and no rune is tofu.
func TestShapesKhmer(t *testing.T) {
	f := face(t, Regular, 30)
	for _, s := range []string{"ហាងកាហ្វេសុខា", "ស្ត្រី", "ក្រុង", "Café ហាង 2025", "១០,០០០ ៛"} {
		l := f.Shape(s)
		if l.Notdef() != 0 {
			t.Errorf("%q: %d .notdef glyphs", s, l.Notdef())
		}
		if l.Width() <= 0 {
			t.Errorf("%q: width %d", s, l.Width())
		}
	}
	// ហ្វេ is ហ + coeng + វ + េ: four runes, drawn as the pre-base vowel, the
	// consonant and the subscript vo.
	if l := f.Shape("ហ្វេ"); l.Glyphs() != 3 {
		t.Errorf("ហ្វេ shaped into %d glyphs, want 3 (vowel, consonant, subscript)", l.Glyphs())
	}
	for _, s := range []string{"日本", "😀", "\u0378"} {
		if f.Shape(s).Notdef() == 0 {
			t.Errorf("%q: no .notdef reported for runes no font has", s)
		}
	}
}

func TestFitAndWrap(t *testing.T) {
	f := face(t, Medium, 30)
	long := "Angkor Handicraft and Silk Weaving Shop of Siem Reap Province"
	if got := f.Fit("Sokha", 500); got != "Sokha" {
		t.Errorf("Fit shortened a short text: %q", got)
	}
	got := f.Fit(long, 300)
	if !strings.HasSuffix(got, Ellipsis) || f.Measure(got) > 300 {
		t.Errorf("Fit(long, 300) = %q, %d px", got, f.Measure(got))
	}
	for _, tc := range []struct {
		s     string
		room  int
		lines int
		last  string // suffix of the last line
	}{
		{"Sokha Coffee", 600, 1, "Coffee"},
		{long, 400, 2, Ellipsis},
		{"Angkor Handicraft Shop Siem", 300, 2, "Siem"},
		{strings.Repeat("ហាងកាហ្វេសុខា", 4), 300, 2, Ellipsis},
		{strings.Repeat("W", 1<<20), 600, 2, Ellipsis},
	} {
		lines := f.Wrap(tc.s, tc.room, 2)
		if len(lines) != tc.lines || !strings.HasSuffix(lines[len(lines)-1], tc.last) {
			t.Errorf("Wrap(%.30q, %d) = %q: want %d lines, the last ending in %q", tc.s, tc.room, lines, tc.lines, tc.last)
		}
		for _, l := range lines {
			if w := f.Measure(l); w > tc.room {
				t.Errorf("Wrap(%.30q): line %q is %d px, room %d", tc.s, l, w, tc.room)
			}
			if strings.HasSuffix(strings.TrimSuffix(l, Ellipsis), "\u17d2") {
				t.Errorf("Wrap(%.30q): line %q ends in a coeng, splitting a subscript from its consonant", tc.s, l)
			}
		}
	}
	if lines := f.Wrap("Sokha Coffee", 150, 2); len(lines) != 2 || lines[0] != "Sokha" || lines[1] != "Coffee" {
		t.Errorf("Wrap broke %q, want at the space", lines)
	}
}

func TestBoundaries(t *testing.T) {
	s := "ស្ត្រី"
	for _, b := range boundaries(s)[1:] {
		if b < len(s) {
			t.Errorf("boundaries(%q) cuts at byte %d inside one cluster", s, b)
		}
	}
	if got := boundaries("ab"); len(got) != 3 {
		t.Errorf("boundaries(ab) = %v", got)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Sokha Coffee":           "Sokha Coffee",
		"  ហាង\nកាហ្វេ\t☕ ":      "ហាង កាហ្វេ",
		"bad \xff UTF-8":         "bad UTF-8",
		"a\u0000b 日本":            "ab",
		"ហាង\u200bកាហ្វេ":        "ហាង\u200bកាហ្វេ",
		strings.Repeat("x", 1e4): strings.Repeat("x", maxRunes),
	} {
		got, err := Clean(in)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Clean(%.20q) = %.20q, want %.20q", in, got, want)
		}
	}
}

func TestDraw(t *testing.T) {
	f := face(t, Bold, 40)
	img := image.NewRGBA(image.Rect(0, 0, 300, 80))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	f.Draw(img, color.Black, 10, 55, "ក្រុង KHQR")
	dark, below := 0, 0
	for y := range 80 {
		for x := range 300 {
			if img.RGBAAt(x, y).R < 128 {
				dark++
				if y > 55 {
					below++
				}
			}
		}
	}
	if dark < 200 {
		t.Errorf("only %d dark pixels drawn", dark)
	}
	if below == 0 {
		t.Error("nothing drawn below the baseline: the subscript ro of ក្រុង is missing")
	}
	if m := f.Metrics(); m.Ascent <= m.CapHeight || m.Descent <= 0 {
		t.Errorf("metrics %+v", m)
	}
	if m, _ := f.Shape(" ").Mask(); m != nil {
		t.Error("a space has a mask")
	}
}

func TestConcurrent(t *testing.T) {
	f := face(t, Regular, 24)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			img := image.NewRGBA(image.Rect(0, 0, 200, 40))
			for j := range 20 {
				f.Draw(img, color.Black, 0, 30, strings.Repeat("ហាង", i+j%3))
			}
		})
	}
	wg.Wait()
}

func BenchmarkShapeName(b *testing.B) {
	f := face(b, Medium, 30)
	for b.Loop() {
		f.shape("ហាងកាហ្វេសុខា Sokha Coffee")
	}
}

// FuzzText: any string shapes, wraps, fits and cleans without a panic, and
// what Wrap and Fit return fits the room (when a single character does).
func FuzzText(f *testing.F) {
	for _, s := range []string{"ហាងកាហ្វេសុខា", "Café ហាង 24", "\u17d2\u17d2ក", "ា", "a\u200db", "\xff\xfe", "😀 日本"} {
		f.Add(s, 200)
	}
	fc := face(f, Regular, 28)
	f.Fuzz(func(t *testing.T, s string, room int) {
		room = 40 + abs(room)%600
		clean, err := Clean(s)
		if err != nil {
			t.Fatal(err)
		}
		if n := fc.Shape(clean).Notdef(); n != 0 {
			t.Errorf("Clean(%q) = %q still has %d .notdef glyphs", s, clean, n)
		}
		for _, l := range fc.Wrap(clean, room, 2) {
			if w := fc.Measure(l); w > room && len(boundaries(l)) > 3 {
				t.Errorf("Wrap(%q, %d): %q is %d px", clean, room, l, w)
			}
		}
		fc.Fit(s, room)
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
