package locales

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

var (
	verb      = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	latinWord = regexp.MustCompile(`[A-Za-z]{4,}`)
)

// TestComplete checks that both languages have the same keys with the same
// format verbs in the same order, so no text falls back or misprints.
func TestComplete(t *testing.T) {
	en, km := Keys(English), Keys(Khmer)
	slices.Sort(en)
	slices.Sort(km)
	if len(en) == 0 {
		t.Fatal("no English texts")
	}
	for _, k := range en {
		if _, ok := tables[Khmer][k]; !ok {
			t.Errorf("km.json misses %q", k)
		}
	}
	for _, k := range km {
		if _, ok := tables[English][k]; !ok {
			t.Errorf("km.json has %q, which en.json lacks", k)
		}
	}
	for _, k := range en {
		e, m := tables[English][k], tables[Khmer][k]
		if ev, mv := verb.FindAllString(e, -1), verb.FindAllString(m, -1); !slices.Equal(ev, mv) {
			t.Errorf("%s: verbs differ: en %q, km %q", k, ev, mv)
		}
		if strings.TrimSpace(m) == "" {
			t.Errorf("%s: empty Khmer text", k)
		}
	}
}

// TestKhmerIsKhmer catches English left in km.json: every text that has words
// has Khmer script in it.
func TestKhmerIsKhmer(t *testing.T) {
	for k, s := range tables[Khmer] {
		letters := verb.ReplaceAllString(s, "")
		hasLatinWord := latinWord.MatchString(letters)
		hasKhmer := strings.ContainsFunc(letters, func(r rune) bool { return unicode.Is(unicode.Khmer, r) })
		if hasLatinWord && !hasKhmer {
			t.Errorf("%s: %q looks untranslated", k, s)
		}
	}
}

func TestPrinter(t *testing.T) {
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "qr.invoice", []any{"INV-000001"}, "🧾 Invoice INV-000001"},
		{"km", "qr.invoice", []any{"INV-000001"}, "🧾 វិក្កយបត្រ INV-000001"},
		{"fr", "qr.invoice", []any{"INV-000001"}, "🧾 Invoice INV-000001"},
		{"en", "no.such.key", nil, "no.such.key"},
		{"km", "btn.check", nil, "ពិនិត្យស្ថានភាព"},
	}
	for _, tt := range tests {
		if got := New(tt.lang).T(tt.key, tt.args...); got != tt.want {
			t.Errorf("New(%q).T(%q) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := map[string]string{"km": "km", "km-KH": "km", "KM": "km", "en-US": "en", "": "en", "ru": "en", " km ": "km"}
	for in, want := range tests {
		if got := Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
}
