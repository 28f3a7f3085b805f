package card

import (
	"strings"
	"sync"
	"time"

	"github.com/khqrbot/khqrbot/locales"
)

// words prints a card's texts in the viewer's language: the keys "card.*"
// of locales/en.json and km.json.
type words struct {
	p      *locales.Printer
	digits func(string) string
	months []string
}

// newWords returns the card's words in lang ("" is English), made once per
// language: every card and chart render asks for them.
func newWords(lang string) words {
	if !locales.Supported(lang) {
		lang = locales.English
	}
	return allWords()[lang]
}

// allWords holds each language's words. A words is read-only once made.
var allWords = sync.OnceValue(func() map[string]words {
	m := make(map[string]words, len(locales.Languages))
	for _, lang := range locales.Languages {
		m[lang] = makeWords(lang)
	}
	return m
})

// makeWords builds the card's words in lang.
func makeWords(lang string) words {
	p := locales.New(lang)
	w := words{p: p, months: strings.Fields(p.T("card.months"))}
	if len(w.months) != 12 {
		w.months = strings.Fields(locales.New(locales.English).T("card.months"))
	}
	w.digits = digitMapper([]rune(p.T("card.digits")))
	return w
}

// digitMapper returns a function writing ASCII digits with set, the ten
// digits zero to nine of the locale's key "card.digits" ("០១២៣៤៥៦៧៨៩" for
// Khmer digits); ASCII digits are kept when set is not ten runes.
func digitMapper(set []rune) func(string) string {
	if len(set) != 10 || string(set) == "0123456789" {
		return func(s string) string { return s }
	}
	return func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return set[r-'0']
			}
			return r
		}, s)
	}
}

// t formats the text for key.
func (w words) t(key string, args ...any) string { return w.p.T(key, args...) }

// currency names a currency as the locale writes it after an amount:
// "KHR" or "៛", "USD".
func (w words) currency(code string) string {
	if code == "KHR" {
		return w.t("card.khr")
	}
	return w.t("card.usd")
}

// date writes t as "23 Nov 2025, 14:32", month and digits as the locale has them.
func (w words) date(t time.Time) string {
	return w.digits(w.t("card.date", t.Day(), w.months[t.Month()-1], t.Year(), t.Format("15:04")))
}

// day writes t as "23 Nov 2025", month and digits as the locale has them.
func (w words) day(t time.Time) string {
	return w.digits(w.t("card.day", t.Day(), w.months[t.Month()-1], t.Year()))
}

// Day writes t's date as "23 Nov 2025" in lang ("" is English), as the
// cards write dates: the locale's month names ("card.months") and digits
// ("card.digits"). Texts beside a card, such as a chart's subtitle, use it
// so that they name days as the card does.
func Day(lang string, t time.Time) string { return newWords(lang).day(t) }
