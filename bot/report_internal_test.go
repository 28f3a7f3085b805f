package bot

import (
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card"
)

// TestKhmerReportDates: a Khmer report names its days as the Khmer cards
// do, with the card's month names and digits.
func TestKhmerReportDates(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	first, last := time.Date(2026, 11, 5, 0, 0, 0, 0, ict), time.Date(2026, 12, 4, 0, 0, 0, 0, ict)
	s := &payments.Sales{Days: []time.Time{first, last}}
	for _, tc := range []struct{ lang, want string }{
		{locales.Khmer, "5 វិច្ឆិកា 2026 – 4 ធ្នូ 2026"},
		{locales.English, "5 Nov 2026 – 4 Dec 2026"},
	} {
		c := salesChart(locales.New(tc.lang), s, "30d")
		if c.Subtitle != tc.want {
			t.Errorf("%s subtitle %q, want %q", tc.lang, c.Subtitle, tc.want)
		}
		if want := card.Day(tc.lang, first) + " – " + card.Day(tc.lang, last); c.Subtitle != want {
			t.Errorf("%s subtitle %q, want the card's days %q", tc.lang, c.Subtitle, want)
		}
	}
}
