package bot

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// AmountProblem names why an amount was refused; the bot phrases each one in
// the user's language with the forms it would have accepted.
type AmountProblem string

// Amount problems. Each is also the suffix of its locale key ("amount.<problem>").
const (
	AmountMissing     AmountProblem = "missing"      // nothing was typed
	AmountSyntax      AmountProblem = "syntax"       // not a number in any accepted form
	AmountUSDDecimals AmountProblem = "usd_decimals" // more than two decimals in USD
	AmountKHRDecimals AmountProblem = "khr_decimals" // any decimals in KHR
	AmountZero        AmountProblem = "zero"         // zero
	AmountTooLarge    AmountProblem = "too_large"    // above payments.MaxAmount
	AmountCurrencies  AmountProblem = "currencies"   // two different currencies named
)

// AmountError is a refused amount: the problem and the text as typed.
type AmountError struct {
	Problem  AmountProblem
	Input    string
	Currency payments.Currency // the currency it was read in, when known
}

// Error describes the refusal for logs; people read amountText's version.
func (e *AmountError) Error() string {
	return "amount " + strconv.Quote(e.Input) + ": " + string(e.Problem)
}

// currencyWords are the currency markers people type, lower-case. Longer
// markers come first so that "usd" is not read as a bare "$"-less number.
var currencyWords = []struct {
	word string
	cur  payments.Currency
}{
	{"dollars", payments.USD}, {"dollar", payments.USD}, {"ដុល្លារ", payments.USD}, {"usd", payments.USD}, {"$", payments.USD},
	{"riels", payments.KHR}, {"riel", payments.KHR}, {"រៀល", payments.KHR}, {"khr", payments.KHR}, {"៛", payments.KHR},
}

// currencyWord reports the currency s names when s is only a currency marker.
func currencyWord(s string) (payments.Currency, bool) {
	s = strings.ToLower(s)
	for _, w := range currencyWords {
		if s == w.word {
			return w.cur, true
		}
	}
	return "", false
}

// ParseAmount reads an amount the way people type it in a chat: "5", "5.5",
// "$5", "5usd", "5 USD", "KHR 10000", "10,000៛", "៛10,000", "១០០០០" (Khmer
// digits). def is the currency when none is named. The result is in integer
// minor units, positive and at most payments.MaxAmount; anything else is an
// *AmountError.
func ParseAmount(s string, def payments.Currency) (payments.Money, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return payments.Money{}, &AmountError{Problem: AmountMissing, Input: s, Currency: def}
	}
	var cur payments.Currency
	fail := func(p AmountProblem) (payments.Money, error) {
		return payments.Money{}, &AmountError{Problem: p, Input: in, Currency: cur}
	}
	num := strings.ToLower(in)
	take := func(c payments.Currency) bool {
		if cur != "" && cur != c {
			return false
		}
		cur = c
		return true
	}
	// A marker may stand before the number, after it, or both (the same one).
	for _, cut := range []func(s, marker string) (string, bool){strings.CutPrefix, strings.CutSuffix} {
		for _, w := range currencyWords {
			if rest, ok := cut(num, w.word); ok {
				if !take(w.cur) {
					return fail(AmountCurrencies)
				}
				num = strings.TrimSpace(rest)
				break
			}
		}
	}
	if cur == "" {
		cur = def
	}
	if cur.Validate() != nil {
		return fail(AmountSyntax)
	}
	whole, frac, ok := splitNumber(khmerDigits(num))
	if !ok {
		return fail(AmountSyntax)
	}
	switch {
	case cur == payments.KHR && frac != "":
		return fail(AmountKHRDecimals)
	case len(frac) > cur.Decimals():
		return fail(AmountUSDDecimals)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 15 { // far above MaxAmount, and below int64 overflow
		return fail(AmountTooLarge)
	}
	digits := whole + frac + strings.Repeat("0", cur.Decimals()-len(frac))
	minor, err := strconv.ParseInt("0"+digits, 10, 64)
	if err != nil {
		return fail(AmountSyntax)
	}
	switch {
	case minor == 0:
		return fail(AmountZero)
	case minor > payments.MaxAmount:
		return fail(AmountTooLarge)
	}
	return payments.Money{Amount: minor, Currency: cur}, nil
}

// khmerDigits turns Khmer digits (U+17E0..U+17E9) into ASCII ones.
func khmerDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '០' && r <= '៩' {
			return '0' + (r - '០')
		}
		return r
	}, s)
}

// splitNumber splits "10,000.50" into "10000" and "50". Commas must group
// thousands; the fraction, when there is a point, has at least one digit.
func splitNumber(s string) (whole, frac string, ok bool) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if hasPoint && (frac == "" || !khqr.AllDigits(frac)) {
		return "", "", false
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return "", "", false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return "", "", false
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" || !khqr.AllDigits(whole) {
		return "", "", false
	}
	return whole, frac, true
}

// parseAmountArgs reads the amount at the start of a command's arguments,
// with its currency as a separate word before or after it ("5 USD", "KHR
// 10000"), and returns the rest (the note or description).
func parseAmountArgs(args string, def payments.Currency) (payments.Money, string, error) {
	fields := strings.Fields(args)
	if len(fields) == 0 {
		m, err := ParseAmount("", def)
		return m, "", err
	}
	n := 1
	if _, ok := currencyWord(fields[0]); ok && len(fields) > 1 {
		n = 2
	} else if len(fields) > 1 {
		if _, ok := currencyWord(fields[1]); ok {
			n = 2
		}
	}
	m, err := ParseAmount(strings.Join(fields[:n], " "), def)
	if err != nil {
		return m, "", err
	}
	return m, restAfter(args, n), nil
}

// restAfter returns s without its first n whitespace-separated words, with
// the remaining text's own spacing kept.
func restAfter(s string, n int) string {
	s = strings.TrimSpace(s)
	for range n {
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i < 0 {
			return ""
		}
		s = strings.TrimLeftFunc(s[i:], unicode.IsSpace)
	}
	return s
}
