package card

import (
	"bytes"
	"image/png"
	"path/filepath"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/imagetest"
	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// week is a chart of seven days with sales in both currencies.
func week(lang string) Chart {
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, payments.Cambodia())
	var days []time.Time
	for i := range 7 {
		days = append(days, day.AddDate(0, 0, i))
	}
	c := Chart{
		Title: "Sales — the last 7 days", Subtitle: "28 Nov – 4 Dec 2026", Days: days, Lang: lang,
		Series: []Series{
			{Currency: "KHR", Heading: "KHR · total 182,000 KHR", Daily: []int64{20_000, 0, 45_000, 12_000, 60_000, 5_000, 40_000}},
			{Currency: "USD", Heading: "USD · total 61.75 USD", Daily: []int64{550, 1200, 0, 2500, 125, 0, 1800}},
		},
		Footer: []string{"14 payments", "Average time to pay: 1 min 12 s"},
	}
	if lang == locales.Khmer {
		c.Title, c.Subtitle = "ការលក់ — ៧ ថ្ងៃចុងក្រោយ", "28 វិច្ឆិកា – 4 ធ្នូ 2026"
		c.Series[0].Heading, c.Series[1].Heading = "៛ · សរុប 182,000 ៛", "USD · សរុប 61.75 USD"
		c.Footer = []string{"ការបង់ប្រាក់ 14", "រយៈពេលបង់ជាមធ្យម៖ 1 នាទី 12 វិនាទី"}
	}
	return c
}

func goldenCharts() map[string]Chart {
	month := week(locales.English)
	month.Title, month.Subtitle = "Sales — the last 30 days", "5 Nov – 4 Dec 2026"
	month.Days = nil
	month.Series = month.Series[1:]
	month.Series[0].Daily = nil
	for i := range 30 {
		month.Days = append(month.Days, time.Date(2026, 11, 5+i, 0, 0, 0, 0, payments.Cambodia()))
		month.Series[0].Daily = append(month.Series[0].Daily, int64((i*i*37+i*113)%4000+50))
	}
	return map[string]Chart{
		"chart-week-en":  week(locales.English),
		"chart-week-km":  week(locales.Khmer),
		"chart-month-en": month,
	}
}

// TestChartGolden compares each chart with its image in testdata/golden, as
// TestGolden does the cards; -update rewrites them.
func TestChartGolden(t *testing.T) {
	for name, c := range goldenCharts() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := RenderChart(c)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if sz := img.Bounds().Size(); sz.X != ChartWidth || sz.Y != ChartHeight {
				t.Fatalf("size %v, want %dx%d", sz, ChartWidth, ChartHeight)
			}
			imagetest.Golden(t, filepath.Join("testdata", "golden", name+".png"), b, *update)
		})
	}
}

func TestChartValidate(t *testing.T) {
	good := week(locales.English)
	tests := []struct {
		name  string
		edit  func(c *Chart)
		field string
	}{
		{"no days", func(c *Chart) { c.Days = nil }, "Days"},
		{"32 days", func(c *Chart) {
			c.Series = nil
			for range 25 {
				c.Days = append(c.Days, c.Days[len(c.Days)-1].AddDate(0, 0, 1))
			}
		}, "Days"},
		{"days out of order", func(c *Chart) { c.Days[3] = c.Days[1] }, "Days"},
		{"three series", func(c *Chart) { c.Series = append(c.Series, c.Series[0]) }, "Series"},
		{"no series", func(c *Chart) { c.Series = nil }, "Series"},
		{"euro", func(c *Chart) { c.Series[0].Currency = "EUR" }, "Series"},
		{"short series", func(c *Chart) { c.Series[1].Daily = c.Series[1].Daily[1:] }, "Series"},
		{"negative", func(c *Chart) { c.Series[1].Daily[2] = -1 }, "Series"},
		{"three footer lines", func(c *Chart) { c.Footer = []string{"a", "b", "c"} }, "Footer"},
		{"language", func(c *Chart) { c.Lang = "fr" }, "Lang"},
	}
	for _, tt := range tests {
		c := good
		c.Days = append([]time.Time(nil), good.Days...)
		c.Series = []Series{good.Series[0], {Currency: "USD", Heading: "x", Daily: append([]int64(nil), good.Series[1].Daily...)}}
		tt.edit(&c)
		_, err := RenderChart(c)
		e, ok := err.(*Error)
		if !ok || e.Field != tt.field {
			t.Errorf("%s: %v, want an error about %s", tt.name, err, tt.field)
		}
	}
	if _, err := RenderChart(Chart{Days: good.Days, Series: good.Series[:1], Title: "control \x00 characters\n dropped"}); err != nil {
		t.Errorf("control characters: %v", err)
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		top   int64
		dec   int
		step  int64
		ticks int
	}{
		{0, 2, 100, 1},
		{1, 0, 1, 1},
		{7, 0, 2, 4},
		{60_000, 0, 20_000, 3},
		{182_000, 0, 50_000, 4},
		{2_500, 2, 500, 5},
		{250, 2, 50, 5},  // below $4: half dollars
		{399, 2, 100, 4}, // whole dollars from $4
		{1_000_001, 2, 500_000, 3},
	}
	for _, tt := range tests {
		step, ticks := scale(tt.top, tt.dec)
		if step != tt.step || ticks != tt.ticks {
			t.Errorf("scale(%d, %d) = %d × %d, want %d × %d", tt.top, tt.dec, step, ticks, tt.step, tt.ticks)
		}
		if int64(ticks)*step < tt.top {
			t.Errorf("scale(%d, %d) ends below the top", tt.top, tt.dec)
		}
	}
}

func TestGroupMinor(t *testing.T) {
	for _, tt := range []struct {
		v     int64
		cur   payments.Currency
		whole bool
		want  string
	}{
		{0, payments.KHR, false, "0"}, {999, payments.KHR, false, "999"}, {1000, payments.KHR, false, "1,000"}, {1234567, payments.KHR, false, "1,234,567"},
		{5, payments.USD, false, "0.05"}, {1250, payments.USD, false, "12.50"}, {123456789, payments.USD, false, "1,234,567.89"}, {1200, payments.USD, true, "12"},
	} {
		if got := groupMinor(tt.v, tt.cur, tt.whole); got != tt.want {
			t.Errorf("groupMinor(%d, %s, %v) = %q, want %q", tt.v, tt.cur, tt.whole, got, tt.want)
		}
	}
}
