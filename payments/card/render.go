package card

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"
	"unicode"

	"github.com/skip2/go-qrcode"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card/text"
)

// Geometry of every card, in pixels. All cards of one payment share it, so a
// message edited from pending to paid keeps its size in the chat.
const (
	width   = 720 // room for a QR of 512 px and more, with margins
	margin  = 28  // grey frame around the white card
	radius  = 28  // card corners
	header  = 128 // red band
	inset   = 56  // text inset from the card's sides
	box     = 620 // square holding the QR or the state panel
	band    = 60  // sandbox band at the foot of the card
	notch   = 44  // side of the triangle under the header's right end
	minQRPx = 512 // QR side, quiet zone included, kept for Telegram's JPEG recompression
)

// The colours of the cards; red is the KHQR brand red.
var (
	frameColor   = color.RGBA{0xEE, 0xF0, 0xF3, 0xFF}
	white        = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	black        = color.RGBA{0x00, 0x00, 0x00, 0xFF}
	red          = color.RGBA{0xE1, 0x23, 0x2E, 0xFF}
	ink          = color.RGBA{0x1A, 0x1C, 0x1F, 0xFF}
	muted        = color.RGBA{0x6B, 0x72, 0x80, 0xFF}
	faint        = color.RGBA{0xA4, 0xAA, 0xB2, 0xFF}
	dividerColor = color.RGBA{0xCD, 0xD1, 0xD6, 0xFF}
	amber        = color.RGBA{0xFF, 0xC5, 0x2E, 0xFF}
)

// look is how a state panel is coloured and worded.
type look struct {
	title  string     // locale key
	accent color.RGBA // icon disc and title
	tint   color.RGBA // panel background
	icon   func(p pen, cx, cy, r float32)
}

var looks = map[State]look{
	StatePaid:      {"card.paid", color.RGBA{0x1E, 0x9E, 0x5A, 0xFF}, color.RGBA{0xEA, 0xF6, 0xEF, 0xFF}, checkIcon},
	StateExpired:   {"card.expired", color.RGBA{0x8A, 0x90, 0x99, 0xFF}, color.RGBA{0xF2, 0xF3, 0xF5, 0xFF}, clockIcon},
	StateFailed:    {"card.failed", color.RGBA{0xC6, 0x28, 0x28, 0xFF}, color.RGBA{0xFD, 0xEE, 0xEE, 0xFF}, bangIcon},
	StateCancelled: {"card.cancelled", color.RGBA{0x8A, 0x90, 0x99, 0xFF}, color.RGBA{0xF2, 0xF3, 0xF5, 0xFF}, crossIcon},
}

// faces are the sizes the cards use. Made once: a text.Face is safe for
// concurrent use and caches the words it has shaped, so the card's own words
// are shaped and rasterized once per process.
type faces struct {
	wordmark, name, footer, title, line, hash, sandbox *text.Face
	amounts                                            []amountFace // largest first
}

// amountFace pairs a size of the amount with its currency's size.
type amountFace struct{ number, currency *text.Face }

var loadFaces = sync.OnceValues(func() (*faces, error) {
	var l faceLoader
	mk := l.face
	fc := &faces{
		wordmark: mk(text.Bold, 64),
		name:     mk(text.Medium, 30),
		footer:   mk(text.Regular, 25),
		title:    mk(text.Bold, 60),
		line:     mk(text.Regular, 29),
		hash:     mk(text.Mono, 27),
		sandbox:  mk(text.Bold, 26),
	}
	for _, px := range [][2]float64{{76, 32}, {64, 28}, {52, 24}, {42, 21}, {34, 19}, {28, 17}} {
		fc.amounts = append(fc.amounts, amountFace{mk(text.Bold, px[0]), mk(text.Medium, px[1])})
	}
	return fc, l.err
})

// faceLoader makes font faces, keeping the first error.
type faceLoader struct{ err error }

func (l *faceLoader) face(w text.Weight, px float64) *text.Face {
	f, err := text.NewFace(w, px)
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("card: font face %vpx: %w", px, err)
	}
	return f
}

// Render draws c as a PNG image, 720 px wide. It validates c first and is
// safe for concurrent use.
func Render(c Card) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fc, err := loadFaces()
	if err != nil {
		return nil, err
	}
	var qr [][]bool
	if c.State == StatePending {
		q, err := qrcode.New(c.QR, qrcode.Medium)
		if err != nil {
			return nil, fmt.Errorf("card: encode QR: %w", err)
		}
		qr = q.Bitmap() // includes the 4-module quiet zone
	}
	if c.Location == nil {
		c.Location = payments.Cambodia()
	}
	w := newWords(c.Lang)
	if c.MerchantName, err = text.Clean(c.MerchantName); err != nil {
		return nil, err
	}
	if c.InvoiceNumber, err = text.Clean(c.InvoiceNumber); err != nil {
		return nil, err
	}
	img := layout(c, fc, w, qr)
	return encode(img)
}

// Name lines: at most two, then the name is shortened with an ellipsis.
const (
	nameLines   = 2
	nameLeading = 42
)

// layout draws the card top to bottom.
func layout(c Card, fc *faces, w words, qr [][]bool) image.Image {
	const x0, x1 = margin, width - margin
	names := fc.name.Wrap(c.MerchantName, x1-x0-2*inset, nameLines)

	top := margin + header
	y := top
	nameY := 0
	if len(names) > 0 {
		y += 66
		nameY = y
		y += nameLeading * (len(names) - 1)
	}
	y += 96
	amountY := y
	y += 44
	dividerY := y
	y += 24
	boxY := y
	y += box + 48
	footerY := y
	y += 40
	bottom := y
	if c.Sandbox {
		bottom += band
	}
	h := bottom + margin

	cv := newCanvas(width, h, frameColor)
	// Bands meet edge to edge: never drawn over one another, so their rounded
	// corners keep clean edges on the frame.
	cv.roundRect(image.Rect(x0, margin, x1, top), red, radius, 0)
	if c.Sandbox {
		cv.rect(image.Rect(x0, top, x1, bottom-band), white)
		cv.roundRect(image.Rect(x0, bottom-band, x1, bottom), amber, 0, radius)
		cv.centered(fc.sandbox.Shape(fc.sandbox.Fit(w.t("card.sandbox"), x1-x0-inset)), ink, width/2, bottom-band/2+9)
	} else {
		cv.roundRect(image.Rect(x0, top, x1, bottom), white, 0, radius)
	}
	cv.fill(image.Rect(x1-notch, top, x1, top+notch), red, func(p pen) {
		p.moveTo(x1-notch, float32(top))
		p.lineTo(x1, float32(top))
		p.lineTo(x1, float32(top+notch))
		p.z.ClosePath()
	})
	cv.centered(fc.wordmark.Shape("KHQR"), white, width/2, margin+header/2+23)

	for i, n := range names {
		cv.text(fc.name.Shape(n), ink, x0+inset, nameY+i*nameLeading)
	}
	drawAmount(cv, c, fc, w, x0+inset, amountY, x1-x0-2*inset)
	for x := x0; x < x1; x += 24 {
		cv.rect(image.Rect(x, dividerY-1, min(x+14, x1), dividerY+2), dividerColor)
	}

	footer := drawFooter(cv, c, fc, w, x0+inset, x1-inset, footerY)
	if c.State == StatePending {
		drawQR(cv, qr, boxY)
	} else {
		panel := image.Rect(x0+inset/2, boxY, x1-inset/2, boxY+box)
		if !footer {
			// Nothing to say under the panel: it reaches down to the
			// card's foot rather than leave an empty strip.
			panel.Max.Y = bottom - inset/2
			if c.Sandbox {
				panel.Max.Y = bottom - band - inset/2
			}
		}
		drawPanel(cv, c, fc, w, panel)
	}
	return cv.img
}

// drawAmount writes "5.00 USD" in the largest size that fits; states other
// than pending and paid mute and strike it, since nothing is owed any more.
func drawAmount(cv *canvas, c Card, fc *faces, w words, x, y, room int) {
	num, cur := w.digits(c.Amount), w.currency(c.Currency)
	f := fc.amounts[len(fc.amounts)-1]
	for _, a := range fc.amounts {
		if a.number.Measure(num)+a.currency.Measure("  ")+max(a.currency.Measure(cur), a.number.Measure(cur)) <= room {
			f = a
			break
		}
	}
	fg, sub := ink, muted
	live := c.State == StatePending || c.State == StatePaid
	if !live {
		fg, sub = faint, faint
	}
	n := f.number.Shape(num)
	cv.text(n, fg, x, y)
	cf := f.currency
	if !strings.ContainsFunc(cur, unicode.IsLetter) {
		cf = f.number // a sign such as ៛ reads at the amount's size, a code smaller
	}
	cv.text(cf.Shape(cur), sub, x+n.Width()+f.currency.Measure("  "), y)
	if !live {
		mid := y - f.number.Metrics().CapHeight/2
		cv.rect(image.Rect(x-4, mid-2, x+n.Width()+4, mid+2), faint)
	}
}

// drawQR centres the QR in the box at a whole number of pixels per module, so
// no module is blurred, and never below minQRPx unless the box cannot hold it.
func drawQR(cv *canvas, qr [][]bool, top int) {
	n := len(qr)
	s := max(box/n, 1)
	if s*n < minQRPx && (s+1)*n <= width-2*margin {
		s++
	}
	side := s * n
	ox, oy := (width-side)/2, top+(box-side)/2
	cv.rect(image.Rect(ox, oy, ox+side, oy+side), white)
	for j, row := range qr {
		for i, dark := range row {
			if dark {
				cv.rect(image.Rect(ox+i*s, oy+j*s, ox+(i+1)*s, oy+(j+1)*s), black)
			}
		}
	}
}

// drawPanel shows a settled or dead QR's state where the QR was, its
// contents centred in r.
func drawPanel(cv *canvas, c Card, fc *faces, w words, r image.Rectangle) {
	lk := looks[c.State]
	cv.roundRect(r, lk.tint, 24, 24)
	top := r.Min.Y + (r.Dy()-box)/2
	room := r.Dx() - 2*inset
	cx, cy, rad := float32(width)/2, float32(top+200), float32(84)
	disc := image.Rect(int(cx-rad)-1, int(cy-rad)-1, int(cx+rad)+2, int(cy+rad)+2)
	cv.fill(disc, lk.accent, func(p pen) { circle(p, cx, cy, rad) })
	cv.fill(disc, white, func(p pen) { lk.icon(p, cx, cy, rad) })
	if c.State == StateExpired {
		cv.fill(disc, lk.accent, func(p pen) { clockHands(p, cx, cy, rad) })
	}
	cv.centered(fc.title.Shape(fc.title.Fit(w.t(lk.title), room)), lk.accent, width/2, top+380)

	line1, line2 := "", w.t("card.new_qr")
	switch c.State {
	case StatePaid:
		line1 = w.date(c.PaidAt.In(c.Location))
	case StateExpired:
		line1 = w.t("card.expired_line")
		if !c.ExpiresAt.IsZero() {
			line1 = w.t("card.expired_at", w.date(c.ExpiresAt.In(c.Location)))
		}
	case StateFailed:
		line1 = w.t("card.failed_line")
	case StateCancelled:
		line1 = w.t("card.cancelled_line")
		line2 = w.t("card.nothing")
	}
	cv.centered(fc.line.Shape(fc.line.Fit(line1, room)), ink, width/2, top+446)
	if c.State == StatePaid {
		label := fc.line.Shape(w.t("card.ref") + " ")
		hash := fc.hash.Shape(fc.hash.Fit(c.ShortHash, room-label.Width())) // validated hex
		x := width/2 - (label.Width()+hash.Width())/2
		cv.text(label, muted, x, top+498)
		cv.text(hash, ink, x+label.Width(), top+498)
		return
	}
	cv.centered(fc.line.Shape(fc.line.Fit(line2, room)), muted, width/2, top+498)
}

// drawFooter puts the invoice number on the left and, while the QR is live,
// its expiry on the right. It reports whether it drew anything.
func drawFooter(cv *canvas, c Card, fc *faces, w words, x0, x1, y int) bool {
	room := x1 - x0
	drawn := false
	if c.State == StatePending && !c.ExpiresAt.IsZero() {
		right := fc.footer.Shape(w.t("card.expires", w.digits(c.ExpiresAt.In(c.Location).Format("15:04"))))
		cv.text(right, ink, x1-right.Width(), y)
		room -= right.Width() + 24
		drawn = true
	}
	if c.InvoiceNumber != "" {
		cv.text(fc.footer.Shape(fc.footer.Fit(c.InvoiceNumber, room)), muted, x0, y)
		drawn = true
	}
	return drawn
}

// The icons are drawn in white on the state's disc of radius r.

func checkIcon(p pen, cx, cy, r float32) {
	stroke(p, r*0.16, [2]float32{cx - r*0.36, cy + r*0.02}, [2]float32{cx - r*0.1, cy + r*0.28}, [2]float32{cx + r*0.38, cy - r*0.24})
}

func clockIcon(p pen, cx, cy, r float32) { circle(p, cx, cy, r*0.56) }

func clockHands(p pen, cx, cy, r float32) {
	stroke(p, r*0.1, [2]float32{cx, cy - r*0.36}, [2]float32{cx, cy}, [2]float32{cx + r*0.26, cy + r*0.12})
}

func bangIcon(p pen, cx, cy, r float32) {
	stroke(p, r*0.17, [2]float32{cx, cy - r*0.42}, [2]float32{cx, cy + r*0.1})
	circle(p, cx, cy+r*0.36, r*0.1)
}

func crossIcon(p pen, cx, cy, r float32) {
	stroke(p, r*0.16, [2]float32{cx - r*0.3, cy - r*0.3}, [2]float32{cx + r*0.3, cy + r*0.3})
	stroke(p, r*0.16, [2]float32{cx + r*0.3, cy - r*0.3}, [2]float32{cx - r*0.3, cy + r*0.3})
}
