package card

import (
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card/text"
)

// Chart is a merchant's sales picture: one bar per day of settled totals,
// a panel per currency (riel and dollars never share a scale), a title and
// a few lines of figures under the panels. Its words come from the caller,
// already in the viewer's language; Khmer is shaped like the cards'.
type Chart struct {
	Title    string      // "Sales — the last 7 days"
	Subtitle string      // the days covered, "28 Nov – 4 Dec 2026"
	Days     []time.Time // the days, in order; each bar is labelled with its day of the month
	Series   []Series    // a panel each, in order: 1 to MaxChartSeries
	Footer   []string    // lines under the panels: count, average time to pay; at most MaxChartFooter
	Lang     string      // digits of the numbers drawn ("card.digits"); "" is English
}

// Series is one currency's daily totals.
type Series struct {
	Currency string  // "USD" or "KHR": the bars' colour and the scale's decimals
	Heading  string  // the panel's heading, e.g. "USD · total 125.50 USD"
	Daily    []int64 // settled total of each day of Chart.Days, in minor units (cents, riel)
}

// Chart limits.
const (
	ChartWidth     = 1080 // portrait 4:5: fills a phone's screen width,
	ChartHeight    = 1350 // and its text stays at least 12 pt when shown there
	MaxChartDays   = 31
	MaxChartSeries = 2
	MaxChartFooter = 2
)

// Validate reports what keeps c from being drawn.
func (c Chart) Validate() error {
	switch {
	case len(c.Days) == 0 || len(c.Days) > MaxChartDays:
		return &Error{Field: "Days", Message: fmt.Sprintf("%d days: want 1 to %d", len(c.Days), MaxChartDays)}
	case len(c.Series) == 0 || len(c.Series) > MaxChartSeries:
		return &Error{Field: "Series", Message: fmt.Sprintf("%d series: want 1 to %d (nothing sold: nothing to chart)", len(c.Series), MaxChartSeries)}
	case len(c.Footer) > MaxChartFooter:
		return &Error{Field: "Footer", Message: fmt.Sprintf("%d lines: want at most %d", len(c.Footer), MaxChartFooter)}
	}
	for i := 1; i < len(c.Days); i++ {
		if !c.Days[i].After(c.Days[i-1]) {
			return &Error{Field: "Days", Message: "want days in increasing order"}
		}
	}
	for _, s := range c.Series {
		if s.Currency != "USD" && s.Currency != "KHR" {
			return &Error{Field: "Series", Message: fmt.Sprintf("currency %q: want USD or KHR", s.Currency)}
		}
		if len(s.Daily) != len(c.Days) {
			return &Error{Field: "Series", Message: fmt.Sprintf("%s: %d daily totals for %d days", s.Currency, len(s.Daily), len(c.Days))}
		}
		for _, v := range s.Daily {
			if v < 0 {
				return &Error{Field: "Series", Message: fmt.Sprintf("%s: a negative total %d", s.Currency, v)}
			}
		}
	}
	if err := validateLang(c.Lang); err != nil {
		return err
	}
	return nil
}

// Chart geometry, in pixels.
const (
	chartPad     = 56   // left and right margins
	chartTop     = 196  // panels start under the title and subtitle
	chartBottom  = 1150 // panels end above the footer
	chartGap     = 44   // between two panels
	chartLeading = 54   // footer lines
)

// seriesColors are the bars' colours: riel in the KHQR red, dollars in blue.
var seriesColors = map[string]color.RGBA{
	"KHR": red,
	"USD": {0x25, 0x63, 0xEB, 0xFF},
}

// chartFaces are the sizes a chart uses.
type chartFaces struct{ title, subtitle, heading, tick, value, footer *text.Face }

var loadChartFaces = sync.OnceValues(func() (*chartFaces, error) {
	var l faceLoader
	mk := l.face
	return &chartFaces{
		title:    mk(text.Bold, 54),
		subtitle: mk(text.Regular, 34),
		heading:  mk(text.Bold, 38),
		tick:     mk(text.Regular, 28),
		value:    mk(text.Medium, 26),
		footer:   mk(text.Regular, 36),
	}, l.err
})

// RenderChart draws c as a PNG of ChartWidth × ChartHeight. It validates c
// first and is safe for concurrent use.
func RenderChart(c Chart) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fc, err := loadChartFaces()
	if err != nil {
		return nil, err
	}
	clean := func(s *string) {
		if err == nil {
			*s, err = text.Clean(*s)
		}
	}
	clean(&c.Title)
	clean(&c.Subtitle)
	for i := range c.Footer {
		clean(&c.Footer[i])
	}
	for i := range c.Series {
		clean(&c.Series[i].Heading)
	}
	if err != nil {
		return nil, err
	}
	w := newWords(c.Lang)
	cv := newCanvas(ChartWidth, ChartHeight, white)
	room := ChartWidth - 2*chartPad
	cv.text(fc.title.Shape(fc.title.Fit(c.Title, room)), ink, chartPad, 104)
	cv.text(fc.subtitle.Shape(fc.subtitle.Fit(c.Subtitle, room)), muted, chartPad, 156)

	scales := make([]axis, len(c.Series))
	left := 0 // the panels' plots line up: all start right of the widest scale
	for i, s := range c.Series {
		scales[i] = newAxis(fc.tick, w, s)
		left = max(left, scales[i].width)
	}
	n := len(c.Series)
	for i, s := range c.Series {
		h := (chartBottom - chartTop - (n-1)*chartGap) / n
		y := chartTop + i*(h+chartGap)
		drawSeries(cv, fc, w, c.Days, s, scales[i], image.Rect(chartPad, y, ChartWidth-chartPad, y+h), left)
	}

	cv.rect(image.Rect(chartPad, chartBottom+20, ChartWidth-chartPad, chartBottom+22), dividerColor)
	for i, l := range c.Footer {
		cv.text(fc.footer.Shape(fc.footer.Fit(l, room)), ink, chartPad, chartBottom+20+chartLeading*(i+1))
	}
	return encode(cv.img)
}

// axis is a panel's scale: round steps from 0, and their labels.
type axis struct {
	cur    payments.Currency
	dec    int // decimals of the currency
	step   int64
	labels []*text.Line // one per step, from 0
	width  int          // of the widest label
}

func newAxis(f *text.Face, w words, s Series) axis {
	a := axis{cur: payments.Currency(s.Currency)}
	a.dec = a.cur.Decimals()
	var top int64
	for _, v := range s.Daily {
		top = max(top, v)
	}
	step, ticks := scale(top, a.dec)
	a.step = step
	for i := range ticks + 1 {
		l := f.Shape(w.digits(groupMinor(int64(i)*step, a.cur, step%pow10(a.dec) == 0)))
		a.labels = append(a.labels, l)
		a.width = max(a.width, l.Width())
	}
	return a
}

// drawSeries draws one currency's panel in r: its heading, its axis with
// grid lines, a bar per day and the days under them. The plot starts left
// pixels right of the axis labels' room.
func drawSeries(cv *canvas, fc *chartFaces, w words, days []time.Time, s Series, a axis, r image.Rectangle, left int) {
	bar := seriesColors[s.Currency]
	cv.roundRect(image.Rect(r.Min.X, r.Min.Y+8, r.Min.X+14, r.Min.Y+40), bar, 4, 4)
	cv.text(fc.heading.Shape(fc.heading.Fit(s.Heading, r.Dx()-28)), ink, r.Min.X+28, r.Min.Y+38)

	step := a.step
	plot := image.Rect(r.Min.X+left+16, r.Min.Y+96, r.Max.X, r.Max.Y-52)
	unit := float64(plot.Dy()) / float64(int64(len(a.labels)-1)*step)
	yOf := func(v int64) int { return plot.Max.Y - int(float64(v)*unit+0.5) }
	for i, l := range a.labels {
		y := yOf(int64(i) * step)
		if i > 0 {
			cv.rect(image.Rect(plot.Min.X, y-1, plot.Max.X, y+1), gridColor)
		}
		cv.text(l, muted, plot.Min.X-16-l.Width(), y+10)
	}

	slot := float64(plot.Dx()) / float64(len(days))
	bw := max(int(slot*0.62), 3)
	every := dayLabelStep(fc.tick, w, days, slot)
	for i, v := range s.Daily {
		cx := plot.Min.X + int(slot*(float64(i)+0.5))
		if v > 0 {
			y := min(yOf(v), plot.Max.Y-2) // a tiny total still shows
			rad := min(bw/4, 10, (plot.Max.Y-y)/2)
			cv.roundRect(image.Rect(cx-bw/2, y, cx-bw/2+bw, plot.Max.Y), bar, rad, 0)
			if len(days) <= 10 {
				l := fc.value.Shape(w.digits(groupMinor(v, a.cur, false)))
				if l.Width() <= int(slot)-4 {
					cv.centered(l, ink, cx, y-10)
				}
			}
		}
		if (len(days)-1-i)%every == 0 { // the last day (today) is always labelled
			cv.centered(fc.tick.Shape(w.digits(strconv.Itoa(days[i].Day()))), muted, cx, r.Max.Y-12)
		}
	}
	cv.rect(image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+3), ink)
}

// gridColor is a scale's grid lines: lighter than the dividers.
var gridColor = color.RGBA{0xE5, 0xE7, 0xEB, 0xFF}

// dayLabelStep is how many bars apart day labels stand so that they do not touch.
func dayLabelStep(f *text.Face, w words, days []time.Time, slot float64) int {
	widest := f.Measure(w.digits("28"))
	for every := 1; ; every++ {
		if float64(every)*slot >= float64(widest+12) {
			return every
		}
	}
}

// scale picks a round step for a scale from 0 over top (minor units): 1, 2
// or 5 times a power of ten, whole major units once top reaches a few, and
// at most five steps. It returns the step and how many steps the scale has.
func scale(top int64, dec int) (step int64, ticks int) {
	major := pow10(dec)
	if top <= 0 {
		return major, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			step = m * p
			if top >= 4*major && step < major {
				continue
			}
			if n := (top + step - 1) / step; n <= 5 {
				return step, int(n)
			}
		}
	}
}

// pow10 is 10 to the n.
func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// groupMinor writes v minor units of c as payments.Money.Number does,
// thousands grouped with commas: "1,250", "12.50"; whole leaves the decimals
// out ("12").
func groupMinor(v int64, c payments.Currency, whole bool) string {
	s := payments.Money{Amount: v, Currency: c}.Number()
	if whole {
		s, _, _ = strings.Cut(s, ".")
	}
	return s
}
