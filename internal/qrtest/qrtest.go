// Package qrtest reads QR codes in tests with gozxing, a decoder independent
// of the skip2/go-qrcode encoder we ship, so a test that scans our cards
// proves what a payer's banking app would see rather than what we meant to draw.
//
// gozxing's finder-pattern search alone misreads about 2% of bot cards
// (ChecksumException or NotFoundException on a perfectly sharp code whose
// module matrix it decodes fine), which made every test that scans a card
// flaky. Scan therefore tries several readings, the way a phone's scanner
// retries frames, and fails only when none of them reads a code.
package qrtest

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // Read decodes photos recompressed as Telegram does.
	_ "image/png"  // Read decodes PNG photos and cards.
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	xdraw "golang.org/x/image/draw"
)

// Read returns the text of the QR code in an encoded image (PNG or JPEG), or why there is none.
func Read(png []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return "", fmt.Errorf("decode image: %w", err)
	}
	return Scan(img)
}

// scales are the sizes, relative to the image, at which Scan retries the
// detector: resampling moves module edges off the positions that fooled it.
var scales = []float64{2.0 / 3, 1.0 / 2, 3.0 / 4, 1.0 / 3, 3.0 / 5}

// Scan returns the text of the QR code in img, or why there is none.
//
// It tries, in order: the whole image with the try-harder hint; the code
// located by its three finder patterns, cropped to its quiet zone and read as
// a pure barcode (the module grid read straight off the pixels, no
// perspective sampling); then the whole image at several smaller scales, each
// both ways. The first attempt that reads a code wins; when all fail, the
// error is the first attempt's.
func Scan(img image.Image) (string, error) {
	s, _, err := scan(img)
	return s, err
}

// How a code was read, in the order Scan tries; the test reports how often
// each was needed.
const (
	byDetector = "detector"
	byPure     = "pure barcode"
	byScale    = "smaller scale"
)

// scan is Scan that also says which attempt read the code.
func scan(img image.Image) (string, string, error) {
	s, how, first := scanOnce(img)
	if first == nil {
		return s, how, nil
	}
	b := img.Bounds()
	for _, f := range scales {
		w, h := int(math.Round(float64(b.Dx())*f)), int(math.Round(float64(b.Dy())*f))
		if w < 21 || h < 21 { // smaller than the smallest QR code
			continue
		}
		dst := image.NewGray(image.Rect(0, 0, w, h))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
		if s, _, err := scanOnce(dst); err == nil {
			return s, byScale, nil
		}
	}
	return "", "", fmt.Errorf("scan QR: %w", first)
}

// scanOnce reads img at its own size: detector first, then pure barcode.
func scanOnce(img image.Image) (string, string, error) {
	src := gozxing.NewLuminanceSourceFromImage(img)
	s, err := decode(src, hints(false))
	if err == nil {
		return s, byDetector, nil
	}
	bm, e := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
	if e != nil {
		return "", "", err
	}
	r, ok := locate(bm)
	if !ok {
		return "", "", err
	}
	crop, e := src.Crop(r.Min.X, r.Min.Y, r.Dx(), r.Dy())
	if e != nil {
		return "", "", err
	}
	if s, e := decode(crop, hints(true)); e == nil {
		return s, byPure, nil
	}
	return "", "", err
}

func hints(pure bool) map[gozxing.DecodeHintType]any {
	h := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
		gozxing.DecodeHintType_TRY_HARDER:    true,
	}
	if pure {
		h[gozxing.DecodeHintType_PURE_BARCODE] = true
	}
	return h
}

func decode(src gozxing.LuminanceSource, h map[gozxing.DecodeHintType]any) (string, error) {
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, h)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// blob is a 4-connected component of black pixels.
type blob struct {
	r image.Rectangle
	n int // pixels
}

func (b blob) center() (float64, float64) {
	return float64(b.r.Min.X+b.r.Max.X) / 2, float64(b.r.Min.Y+b.r.Max.Y) / 2
}

// square reports whether b's bounding box is square within 15%, and at least min px.
func (b blob) square(min int) bool {
	w, h := b.r.Dx(), b.r.Dy()
	return w >= min && h >= min && near(float64(w), float64(h), 0.15)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(a, b) }

// locate finds an upright QR code in bm by its finder patterns (a 7×7-module
// black ring around a 3×3 core, each its own component) and returns the
// code's bounds widened by two modules of its quiet zone.
func locate(bm *gozxing.BitMatrix) (image.Rectangle, bool) {
	blobs := components(bm)
	var rings, cores []blob
	for _, b := range blobs {
		if !b.square(3) {
			continue
		}
		area := float64(b.r.Dx() * b.r.Dy())
		switch fill := float64(b.n) / area; {
		case fill > 0.8:
			cores = append(cores, b)
		case b.r.Dx() >= 7 && near(fill, 24.0/49, 0.3):
			rings = append(rings, b)
		}
	}
	var finders []blob
	for _, r := range rings {
		rx, ry := r.center()
		side := float64(r.r.Dx())
		for _, c := range cores {
			cx, cy := c.center()
			if near(float64(c.r.Dx()), side*3/7, 0.25) && math.Abs(cx-rx) <= side/14 && math.Abs(cy-ry) <= side/14 {
				finders = append(finders, r)
				break
			}
		}
	}
	for _, tl := range finders {
		side := float64(tl.r.Dx())
		for _, tr := range finders {
			if tr.r.Min.X <= tl.r.Max.X || !near(float64(tr.r.Dx()), side, 0.15) || math.Abs(float64(tr.r.Min.Y-tl.r.Min.Y)) > side/7 {
				continue
			}
			for _, bl := range finders {
				if bl.r.Min.Y <= tl.r.Max.Y || !near(float64(bl.r.Dx()), side, 0.15) || math.Abs(float64(bl.r.Min.X-tl.r.Min.X)) > side/7 ||
					!near(float64(bl.r.Min.Y-tl.r.Min.Y), float64(tr.r.Min.X-tl.r.Min.X), 0.05) {
					continue
				}
				pad := int(2 * side / 7)
				r := image.Rect(tl.r.Min.X-pad, tl.r.Min.Y-pad, tr.r.Max.X+pad, bl.r.Max.Y+pad)
				return r.Intersect(image.Rect(0, 0, bm.GetWidth(), bm.GetHeight())), true
			}
		}
	}
	return image.Rectangle{}, false
}

// components labels the 4-connected black components of bm.
func components(bm *gozxing.BitMatrix) []blob {
	w, h := bm.GetWidth(), bm.GetHeight()
	seen := make([]bool, w*h)
	var out []blob
	var stack []int
	for start := range seen {
		if seen[start] || !bm.Get(start%w, start/w) {
			continue
		}
		seen[start] = true
		b := blob{r: image.Rect(start%w, start/w, start%w+1, start/w+1)}
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			b.n++
			b.r = b.r.Union(image.Rect(x, y, x+1, y+1))
			for _, q := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if q[0] < 0 || q[1] < 0 || q[0] >= w || q[1] >= h {
					continue
				}
				i := q[1]*w + q[0]
				if !seen[i] && bm.Get(q[0], q[1]) {
					seen[i] = true
					stack = append(stack, i)
				}
			}
		}
		out = append(out, b)
	}
	return out
}
