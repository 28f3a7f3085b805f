package khqr

import (
	"strconv"
	"strings"
)

// maxAmountDigits bounds the integer part ParseAmount reads, far above tag
// 54's 13 characters and far below int64 overflow.
const maxAmountDigits = 16

// FormatAmount writes minor units of c the way the SDK writes tag 54 for a
// numeric amount: riel as an integer ("50000"); dollars without decimals when
// whole ("5") and with two otherwise ("10.50", "0.01").
func FormatAmount(minor int64, c Currency) string {
	var b [24]byte
	return string(appendAmount(b[:0], minor, c, false))
}

// appendAmount appends FormatAmount's result to b; fixed writes whole
// dollars as "5.00", as the SDK does for an amount given as a string with
// decimals.
func appendAmount(b []byte, minor int64, c Currency, fixed bool) []byte {
	if c.Decimals() == 0 {
		return strconv.AppendInt(b, minor, 10)
	}
	u := uint64(minor)
	if minor < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/100, 10)
	if cents := u % 100; cents != 0 || fixed {
		b = append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
	}
	return b
}

// ParseAmount reads a decimal amount of c into minor units. It is strict:
// digits, then for USD an optional point and one or two decimals; KHR takes
// no decimals. "5", "10.5", "0.01" and "50000" pass; "", "-1", "+5", "1e3",
// "05", ".5", "5.", "1,000" and "10.505" do not. Zero is allowed (a static QR).
// Errors carry CodeAmountInvalid (CodeUnsupportedCurrency for c).
func ParseAmount(s string, c Currency) (int64, error) {
	n, err := parseAmount(s, c)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// parseAmount is ParseAmount with a concrete error type.
func parseAmount(s string, c Currency) (int64, *Error) {
	if err := c.Validate(); err != nil {
		return 0, sdkErr(CodeUnsupportedCurrency, "currency", err.Error())
	}
	bad := func(why string) (int64, *Error) {
		return 0, sdkErr(CodeAmountInvalid, "amount", strconv.Quote(s)+": "+why)
	}
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case s == "":
		return bad("empty, want a decimal number like 5, 10.5 or 50000")
	case s[0] == '-':
		return bad("must not be negative")
	case !AllDigits(whole) || (dot && !AllDigits(frac)):
		return bad("want a decimal number like 5, 10.5 or 50000")
	case len(whole) > 1 && whole[0] == '0':
		return bad("leading zero")
	case len(whole) > maxAmountDigits:
		return bad("too large")
	case dot && c.Decimals() == 0:
		return bad(string(c) + " takes no decimals")
	case dot && len(frac) > c.Decimals():
		return bad(string(c) + " takes at most " + strconv.Itoa(c.Decimals()) + " decimals")
	}
	n, _ := strconv.ParseInt(whole, 10, 64)
	for range c.Decimals() {
		n *= 10
	}
	if dot {
		f, _ := strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
		n += f
	}
	return n, nil
}

// AllDigits reports whether s is one or more ASCII digits.
func AllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
