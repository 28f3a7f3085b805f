package card

import (
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
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
	title  string
	accent color.RGBA // icon disc and title
	tint   color.RGBA // panel background
	icon   func(p pen, cx, cy, r float32)
}

var looks = map[State]look{
	StatePaid:      {"PAID", color.RGBA{0x1E, 0x9E, 0x5A, 0xFF}, color.RGBA{0xEA, 0xF6, 0xEF, 0xFF}, checkIcon},
	StateExpired:   {"EXPIRED", color.RGBA{0x8A, 0x90, 0x99, 0xFF}, color.RGBA{0xF2, 0xF3, 0xF5, 0xFF}, clockIcon},
	StateFailed:    {"FAILED", color.RGBA{0xC6, 0x28, 0x28, 0xFF}, color.RGBA{0xFD, 0xEE, 0xEE, 0xFF}, bangIcon},
	StateCancelled: {"CANCELLED", color.RGBA{0x8A, 0x90, 0x99, 0xFF}, color.RGBA{0xF2, 0xF3, 0xF5, 0xFF}, crossIcon},
}

// fonts are the embedded Go fonts, parsed once. Parsed fonts are immutable
// and safe to share; faces are not, so every render makes its own.
type fonts struct {
	regular, medium, bold, mono *opentype.Font
}

var loadFonts = sync.OnceValues(func() (*fonts, error) {
	var fs fonts
	for _, f := range []struct {
		dst  **opentype.Font
		name string
		ttf  []byte
	}{
		{&fs.regular, "Go Regular", goregular.TTF},
		{&fs.medium, "Go Medium", gomedium.TTF},
		{&fs.bold, "Go Bold", gobold.TTF},
		{&fs.mono, "Go Mono Bold", gomonobold.TTF},
	} {
		p, err := opentype.Parse(f.ttf)
		if err != nil {
			return nil, fmt.Errorf("card: parse font %s: %w", f.name, err)
		}
		*f.dst = p
	}
	return &fs, nil
})

// phnomPenh is the default zone. Cambodia has kept UTC+7 without daylight
// saving for decades, so a fixed zone is exact when tzdata is missing.
var phnomPenh = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Phnom_Penh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
})

// faces are the sizes one card uses.
type faces struct {
	wordmark, name, footer, title, line, hash, sandbox font.Face
	amounts                                            []amountFace // largest first
}

// amountFace pairs a size of the amount with its currency's size.
type amountFace struct{ number, currency font.Face }

func (fs *fonts) faces() (*faces, error) {
	var err error
	mk := func(f *opentype.Font, px float64) font.Face {
		fc, e := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
		if e != nil && err == nil {
			err = fmt.Errorf("card: font face %vpx: %w", px, e)
		}
		return fc
	}
	fc := &faces{
		wordmark: mk(fs.bold, 64),
		name:     mk(fs.medium, 30),
		footer:   mk(fs.regular, 25),
		title:    mk(fs.bold, 60),
		line:     mk(fs.regular, 29),
		hash:     mk(fs.mono, 27),
		sandbox:  mk(fs.bold, 26),
	}
	for _, px := range [][2]float64{{76, 32}, {64, 28}, {52, 24}, {42, 21}, {34, 19}, {28, 17}} {
		fc.amounts = append(fc.amounts, amountFace{mk(fs.bold, px[0]), mk(fs.medium, px[1])})
	}
	return fc, err
}

// Render draws c as a PNG image, 720 px wide. It validates c first and is
// safe for concurrent use.
func Render(c Card) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fs, err := loadFonts()
	if err != nil {
		return nil, err
	}
	fc, err := fs.faces()
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
		c.Location = phnomPenh()
	}
	img := layout(c, fc, qr)
	return encode(img)
}

// layout draws the card top to bottom.
func layout(c Card, fc *faces, qr [][]bool) image.Image {
	const x0, x1 = margin, width - margin
	name, ok := fit(fc.name, c.MerchantName, x1-x0-2*inset)
	if !ok {
		name = ""
	}

	top := margin + header
	y := top
	nameY := 0
	if name != "" {
		y += 66
		nameY = y
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
		cv.centered(fc.sandbox, ink, width/2, bottom-band/2+9, "SANDBOX · NO REAL MONEY")
	} else {
		cv.roundRect(image.Rect(x0, top, x1, bottom), white, 0, radius)
	}
	cv.fill(image.Rect(x1-notch, top, x1, top+notch), red, func(p pen) {
		p.moveTo(x1-notch, float32(top))
		p.lineTo(x1, float32(top))
		p.lineTo(x1, float32(top+notch))
		p.z.ClosePath()
	})
	cv.centered(fc.wordmark, white, width/2, margin+header/2+23, "KHQR")

	if name != "" {
		cv.text(fc.name, ink, x0+inset, nameY, name)
	}
	drawAmount(cv, c, fc, x0+inset, amountY, x1-x0-2*inset)
	for x := x0; x < x1; x += 24 {
		cv.rect(image.Rect(x, dividerY-1, min(x+14, x1), dividerY+2), dividerColor)
	}

	if c.State == StatePending {
		drawQR(cv, qr, boxY)
	} else {
		drawPanel(cv, c, fc, image.Rect(x0+inset/2, boxY, x1-inset/2, boxY+box))
	}
	drawFooter(cv, c, fc, x0+inset, x1-inset, footerY)

	return cv.img
}

// drawAmount writes "5.00 USD" in the largest size that fits; states other
// than pending and paid mute and strike it, since nothing is owed any more.
func drawAmount(cv *canvas, c Card, fc *faces, x, y, room int) {
	f := fc.amounts[len(fc.amounts)-1]
	for _, a := range fc.amounts {
		if measure(a.number, c.Amount)+measure(a.currency, "  "+c.Currency) <= room {
			f = a
			break
		}
	}
	fg, sub := ink, muted
	live := c.State == StatePending || c.State == StatePaid
	if !live {
		fg, sub = faint, faint
	}
	w := measure(f.number, c.Amount)
	cv.text(f.number, fg, x, y, c.Amount)
	cv.text(f.currency, sub, x+w+measure(f.currency, "  "), y, c.Currency)
	if !live {
		mid := y - f.number.Metrics().CapHeight.Round()/2
		cv.rect(image.Rect(x-4, mid-2, x+w+4, mid+2), faint)
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

// drawPanel shows a settled or dead QR's state where the QR was.
func drawPanel(cv *canvas, c Card, fc *faces, r image.Rectangle) {
	lk := looks[c.State]
	cv.roundRect(r, lk.tint, 24, 24)
	cx, cy, rad := float32(width)/2, float32(r.Min.Y+200), float32(84)
	disc := image.Rect(int(cx-rad)-1, int(cy-rad)-1, int(cx+rad)+2, int(cy+rad)+2)
	cv.fill(disc, lk.accent, func(p pen) { circle(p, cx, cy, rad) })
	cv.fill(disc, white, func(p pen) { lk.icon(p, cx, cy, rad) })
	if c.State == StateExpired {
		cv.fill(disc, lk.accent, func(p pen) { clockHands(p, cx, cy, rad) })
	}
	cv.centered(fc.title, lk.accent, width/2, r.Min.Y+380, lk.title)

	line1, line2 := "", "Ask for a new QR to pay"
	switch c.State {
	case StatePaid:
		line1 = c.PaidAt.In(c.Location).Format("2 Jan 2006, 15:04")
		line2 = ""
	case StateExpired:
		line1 = "This QR has expired"
		if !c.ExpiresAt.IsZero() {
			line1 = "Expired at " + c.ExpiresAt.In(c.Location).Format("15:04, 2 Jan 2006")
		}
	case StateFailed:
		line1 = "The payment did not go through"
	case StateCancelled:
		line1 = "This invoice was cancelled"
		line2 = "Nothing to pay"
	}
	cv.centered(fc.line, ink, width/2, r.Min.Y+446, line1)
	if c.State == StatePaid {
		const label = "Ref "
		hash, _ := fit(fc.hash, c.ShortHash, r.Dx()-2*inset-measure(fc.line, label)) // validated hex
		w := measure(fc.line, label) + measure(fc.hash, hash)
		x := width/2 - w/2
		cv.text(fc.line, muted, x, r.Min.Y+498, label)
		cv.text(fc.hash, ink, x+measure(fc.line, label), r.Min.Y+498, hash)
		return
	}
	cv.centered(fc.line, muted, width/2, r.Min.Y+498, line2)
}

// drawFooter puts the invoice number on the left and, while the QR is live,
// its expiry on the right.
func drawFooter(cv *canvas, c Card, fc *faces, x0, x1, y int) {
	right := ""
	if c.State == StatePending && !c.ExpiresAt.IsZero() {
		right = "Expires " + c.ExpiresAt.In(c.Location).Format("15:04")
		cv.text(fc.footer, ink, x1-measure(fc.footer, right), y, right)
	}
	room := x1 - x0
	if right != "" {
		room -= measure(fc.footer, right) + 24
	}
	if inv, ok := fit(fc.footer, c.InvoiceNumber, room); ok {
		cv.text(fc.footer, muted, x0, y, inv)
	}
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
