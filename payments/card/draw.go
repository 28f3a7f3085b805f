package card

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/vector"

	"github.com/khqrbot/khqrbot/payments/card/text"
)

// levels is how many coverage steps an anti-aliased edge keeps. Sixteen look
// smooth and keep a card within one 256-colour palette, which makes the PNG
// several times faster to encode than RGB.
const levels = 16

// canvas is a paletted image that grows its palette as it is drawn on:
// solid colours, then the blends that anti-aliased edges need.
type canvas struct {
	img *image.Paletted
	pal map[color.RGBA]uint8
	mix map[uint8]*[256 * levels]uint16 // per foreground: [background][level] -> index+1
}

func newCanvas(w, h int, bg color.RGBA) *canvas {
	cv := &canvas{
		img: image.NewPaletted(image.Rect(0, 0, w, h), make(color.Palette, 0, 256)),
		pal: make(map[color.RGBA]uint8),
		mix: make(map[uint8]*[256 * levels]uint16),
	}
	cv.index(bg) // index 0, which the zeroed pixels already hold
	return cv
}

// index returns c's palette index, adding c while there is room and taking
// the nearest colour once the palette is full.
func (cv *canvas) index(c color.RGBA) uint8 {
	if i, ok := cv.pal[c]; ok {
		return i
	}
	p := cv.img.Palette
	var i uint8
	if len(p) < 256 {
		i = uint8(len(p))
		cv.img.Palette = append(p, c)
	} else {
		i = uint8(p.Index(c))
	}
	cv.pal[c] = i
	return i
}

// blend returns the index of fg covering the colour at index bg by
// level/(levels-1).
func (cv *canvas) blend(fg, bg uint8, level int) uint8 {
	t := cv.mix[fg]
	if t == nil {
		t = new([256 * levels]uint16)
		cv.mix[fg] = t
	}
	k := int(bg)*levels + level
	if t[k] == 0 {
		f := cv.img.Palette[fg].(color.RGBA)
		b := cv.img.Palette[bg].(color.RGBA)
		m := func(f, b uint8) uint8 {
			return uint8((int(b)*(levels-1-level) + int(f)*level + (levels-1)/2) / (levels - 1))
		}
		t[k] = uint16(cv.index(color.RGBA{m(f.R, b.R), m(f.G, b.G), m(f.B, b.B), 0xFF})) + 1
	}
	return uint8(t[k] - 1)
}

// rect fills r with c.
func (cv *canvas) rect(r image.Rectangle, c color.RGBA) {
	r = r.Intersect(cv.img.Bounds())
	if r.Empty() {
		return
	}
	i := cv.index(c)
	first := cv.img.Pix[cv.img.PixOffset(r.Min.X, r.Min.Y):cv.img.PixOffset(r.Max.X, r.Min.Y)]
	for x := range first {
		first[x] = i
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(cv.img.Pix[cv.img.PixOffset(r.Min.X, y):], first)
	}
}

// paint covers dst r with c through the mask m, whose point mp maps to r.Min.
func (cv *canvas) paint(r image.Rectangle, c color.RGBA, m *image.Alpha, mp image.Point) {
	clip := r.Intersect(cv.img.Bounds())
	if clip.Empty() {
		return
	}
	mp = mp.Add(clip.Min.Sub(r.Min))
	fg := cv.index(c)
	for y := 0; y < clip.Dy(); y++ {
		row := cv.img.Pix[cv.img.PixOffset(clip.Min.X, clip.Min.Y+y):]
		mask := m.Pix[m.PixOffset(mp.X, mp.Y+y):]
		for x := 0; x < clip.Dx(); x++ {
			switch l := (int(mask[x])*(levels-1) + 127) / 255; l {
			case 0:
			case levels - 1:
				row[x] = fg
			default:
				row[x] = cv.blend(fg, row[x], l)
			}
		}
	}
}

// pen adds path segments in canvas coordinates to a rasterizer that covers
// only the shape's bounds, so each shape costs its own area, not the card's.
type pen struct {
	z      *vector.Rasterizer
	ox, oy float32
}

func (p pen) moveTo(x, y float32) { p.z.MoveTo(x-p.ox, y-p.oy) }
func (p pen) lineTo(x, y float32) { p.z.LineTo(x-p.ox, y-p.oy) }
func (p pen) cubeTo(x1, y1, x2, y2, x, y float32) {
	p.z.CubeTo(x1-p.ox, y1-p.oy, x2-p.ox, y2-p.oy, x-p.ox, y-p.oy)
}

// fill paints c, anti-aliased, through the path that build adds within r.
// All paths below run clockwise on screen, so overlapping parts of one fill
// stay solid.
func (cv *canvas) fill(r image.Rectangle, c color.RGBA, build func(p pen)) {
	if r.Empty() {
		return
	}
	z := vector.NewRasterizer(r.Dx(), r.Dy())
	build(pen{z: z, ox: float32(r.Min.X), oy: float32(r.Min.Y)})
	m := image.NewAlpha(image.Rect(0, 0, r.Dx(), r.Dy()))
	z.Draw(m, m.Bounds(), image.Opaque, image.Point{})
	cv.paint(r, c, m, image.Point{})
}

// kappa places cubic Bézier control points that approximate a quarter circle.
const kappa = 0.5522847

// roundRect fills r with c, the top corners rounded with radius top and the
// bottom ones with bottom. Only the corners are rasterized.
func (cv *canvas) roundRect(r image.Rectangle, c color.RGBA, top, bottom int) {
	cv.rect(image.Rect(r.Min.X, r.Min.Y+top, r.Max.X, r.Max.Y-bottom), c)
	cv.rect(image.Rect(r.Min.X+top, r.Min.Y, r.Max.X-top, r.Min.Y+top), c)
	cv.rect(image.Rect(r.Min.X+bottom, r.Max.Y-bottom, r.Max.X-bottom, r.Max.Y), c)
	for _, k := range []struct {
		rad    int
		px, py int // the square corner
		dx, dy int // towards the inside
	}{
		{top, r.Min.X, r.Min.Y, 1, 1},
		{top, r.Max.X, r.Min.Y, -1, 1},
		{bottom, r.Max.X, r.Max.Y, -1, -1},
		{bottom, r.Min.X, r.Max.Y, 1, -1},
	} {
		if k.rad == 0 {
			continue
		}
		cx, cy := k.px+k.dx*k.rad, k.py+k.dy*k.rad
		cv.fill(image.Rect(k.px, k.py, cx, cy).Canon(), c, func(p pen) {
			px, py, fx, fy := float32(k.px), float32(k.py), float32(cx), float32(cy)
			p.moveTo(px, fy)
			p.cubeTo(px, fy+(py-fy)*kappa, fx+(px-fx)*kappa, py, fx, py)
			p.lineTo(fx, fy)
			p.z.ClosePath()
		})
	}
}

// circle adds a circle of radius r around (cx, cy).
func circle(p pen, cx, cy, r float32) {
	k := r * kappa
	p.moveTo(cx, cy-r)
	p.cubeTo(cx+k, cy-r, cx+r, cy-k, cx+r, cy)
	p.cubeTo(cx+r, cy+k, cx+k, cy+r, cx, cy+r)
	p.cubeTo(cx-k, cy+r, cx-r, cy+k, cx-r, cy)
	p.cubeTo(cx-r, cy-k, cx-k, cy-r, cx, cy-r)
	p.z.ClosePath()
}

// stroke adds a polyline of width w with round joins and caps.
func stroke(p pen, w float32, pts ...[2]float32) {
	for i, a := range pts {
		circle(p, a[0], a[1], w/2)
		if i == 0 {
			continue
		}
		b := pts[i-1]
		dx, dy := a[0]-b[0], a[1]-b[1]
		l := float32(math.Hypot(float64(dx), float64(dy)))
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*w/2, dx/l*w/2
		p.moveTo(b[0]-nx, b[1]-ny)
		p.lineTo(a[0]-nx, a[1]-ny)
		p.lineTo(a[0]+nx, a[1]+ny)
		p.lineTo(b[0]+nx, b[1]+ny)
		p.z.ClosePath()
	}
}

// text draws l in c with its baseline starting at (x, y).
func (cv *canvas) text(l *text.Line, c color.RGBA, x, y int) {
	m, at := l.Mask()
	if m == nil {
		return
	}
	cv.paint(m.Bounds().Add(image.Pt(x, y).Add(at)), c, m, image.Point{})
}

// centered draws l centred on x.
func (cv *canvas) centered(l *text.Line, c color.RGBA, x, y int) {
	cv.text(l, c, x-l.Width()/2, y)
}
