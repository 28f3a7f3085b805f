// Package imagetest compares images with golden files in tests, within a
// tolerance that lets glyphs move by a pixel (a font or rasterizer update)
// but catches text that is missing, misplaced or changed.
package imagetest

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// MaxDiffering is how many pixels may differ beyond the tolerance: a few
// stray anti-aliasing pixels, far fewer than one changed letter.
const MaxDiffering = 40

// tolerance is the largest difference per channel taken as the same colour.
const tolerance = 40

// Golden compares the PNG got with the one at path: it fails t when more
// than MaxDiffering pixels differ. With update it writes got to path
// instead (run the test with -update after a deliberate change, and look
// at the image).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	a, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("the image made is no PNG: %v", err)
	}
	b, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if n := Differ(a, b); n > MaxDiffering {
		t.Errorf("%d pixels differ from %s beyond a 1-pixel shift (at most %d may); if the change is meant, run the test with -update and look at the image", n, path, MaxDiffering)
	}
}

// Differ counts the pixels of a without a close colour in b within one
// pixel, and those of b without one in a; images of different sizes differ
// everywhere.
func Differ(a, b image.Image) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	ra, rb := toRGBA(a), toRGBA(b)
	return unmatched(ra, rb) + unmatched(rb, ra)
}

func toRGBA(img image.Image) *image.RGBA {
	r := image.NewRGBA(img.Bounds())
	draw.Draw(r, r.Bounds(), img, img.Bounds().Min, draw.Src)
	return r
}

func unmatched(a, b *image.RGBA) int {
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !near(a.RGBAAt(x, y), b, x, y) {
				n++
			}
		}
	}
	return n
}

// near reports whether b has a colour close to c at (x, y) or next to it.
func near(c color.RGBA, b *image.RGBA, x, y int) bool {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			p := image.Pt(x+dx, y+dy)
			if !p.In(b.Bounds()) {
				continue
			}
			d := b.RGBAAt(p.X, p.Y)
			if absDiff(c.R, d.R) <= tolerance && absDiff(c.G, d.G) <= tolerance && absDiff(c.B, d.B) <= tolerance {
				return true
			}
		}
	}
	return false
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
