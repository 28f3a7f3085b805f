package text

import (
	"image"
	"sync"

	"golang.org/x/image/vector"
)

// rasterizer fills glyph outlines into a mask covering r, in pixels with y
// down from the baseline.
type rasterizer struct {
	z *vector.Rasterizer
	r image.Rectangle
}

func newRasterizer(r image.Rectangle) *rasterizer {
	return &rasterizer{z: vector.NewRasterizer(r.Dx(), r.Dy()), r: r}
}

// glyph adds an outline in font units (y up) whose origin is at (x, y).
func (z *rasterizer) glyph(segs []outlineSeg, x, y, scale float32) {
	ox, oy := x-float32(z.r.Min.X), y-float32(z.r.Min.Y)
	pt := func(p [2]float32) (float32, float32) { return ox + p[0]*scale, oy - p[1]*scale }
	open := false
	for _, s := range segs {
		switch s.op {
		case 0:
			if open {
				z.z.ClosePath()
			}
			z.z.MoveTo(pt(s.pts[0]))
			open = true
		case 1:
			z.z.LineTo(pt(s.pts[0]))
		case 2:
			ax, ay := pt(s.pts[0])
			bx, by := pt(s.pts[1])
			z.z.QuadTo(ax, ay, bx, by)
		case 3:
			ax, ay := pt(s.pts[0])
			bx, by := pt(s.pts[1])
			cx, cy := pt(s.pts[2])
			z.z.CubeTo(ax, ay, bx, by, cx, cy)
		}
	}
	if open {
		z.z.ClosePath()
	}
}

// mask returns the coverage drawn so far.
func (z *rasterizer) mask() *image.Alpha {
	m := image.NewAlpha(image.Rect(0, 0, z.r.Dx(), z.r.Dy()))
	z.z.Draw(m, m.Bounds(), image.Opaque, image.Point{})
	return m
}

// maxCached bounds a face's line cache. A card draws a few dozen strings,
// most of them the same on every card (its words); dynamic ones (names,
// amounts) come and go, so the cache is simply emptied when full.
const maxCached = 128

// lineCache maps text to its shaped line.
type lineCache struct {
	mu sync.Mutex
	m  map[string]*Line
}

func newLineCache() *lineCache { return &lineCache{m: make(map[string]*Line)} }

func (c *lineCache) get(s string) *Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[s]
}

func (c *lineCache) put(s string, l *Line) {
	if len(s) > 4*maxRunes {
		return // too long to be one of the words worth keeping
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[s] = l
}
