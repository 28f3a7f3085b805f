package payments

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments/khqr"
)

// Currency is KHR or USD; see khqr.Currency.
type Currency = khqr.Currency

// The supported currencies.
const (
	KHR = khqr.KHR
	USD = khqr.USD
)

// DefaultCurrency is the currency of an amount that names none
// (DEFAULT_CURRENCY).
const DefaultCurrency = USD

// MaxAmount bounds an amount in minor units: far above any chat payment, and
// short enough for tag 54's 13 characters in either currency.
const MaxAmount = 1_000_000_000_00

// Money is an amount in integer minor units (cents, riel) and its currency.
// Floats never hold money.
type Money struct {
	Amount   int64
	Currency Currency
}

// Validate reports whether m is a positive amount in a supported currency.
func (m Money) Validate() error {
	if err := m.Currency.Validate(); err != nil {
		return &Error{Code: EInvalid, Message: err.Error()}
	}
	if m.Amount <= 0 {
		return Errorf(EInvalid, "amount must be positive, got %s", m)
	}
	if m.Amount > MaxAmount {
		return Errorf(EInvalid, "amount %s is above the maximum", m)
	}
	return nil
}

// Number formats the amount alone with thousands separators and the
// currency's decimals: "5.00", "10,000".
func (m Money) Number() string {
	a := m.Amount
	neg := a < 0
	if neg {
		a = -a
	}
	var whole, frac int64 = a, 0
	if m.Currency.Decimals() == 2 {
		whole, frac = a/100, a%100
	}
	s := groupThousands(strconv.FormatInt(whole, 10))
	if m.Currency.Decimals() == 2 {
		s += fmt.Sprintf(".%02d", frac)
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String formats m for people and logs: "5.00 USD", "10,000 KHR".
func (m Money) String() string { return m.Number() + " " + string(m.Currency) }

func groupThousands(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Decimal formats the amount alone as a plain decimal number, without
// thousands separators, for spreadsheets and machines: "5.00", "10000".
func (m Money) Decimal() string { return strings.ReplaceAll(m.Number(), ",", "") }

// cambodia is Cambodia's time: UTC+7 all year, so a fixed zone is exact
// and needs no tzdata.
var cambodia = time.FixedZone("ICT", 7*60*60)

// Cambodia returns Cambodia's time zone (UTC+7, no daylight saving): the
// zone of every time shown to people and of "one warning per day".
func Cambodia() *time.Location { return cambodia }

// Clock tells the time. Everything that reads the time takes one, so tests
// run on a fake clock.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
