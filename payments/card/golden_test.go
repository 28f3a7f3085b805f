package card

import (
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/khqrbot/khqrbot/internal/imagetest"
	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments/card/text"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/golden")

// The merchant names the tests draw.
const (
	khmerShop = "ហាងកាហ្វេសុខា"
	mixedShop = "Café ហាងកាហ្វេ Sokha 24"
	longShop  = "Angkor Handicraft and Silk Weaving Cooperative of Siem Reap Province"
)

var testNames = []string{khmerShop, mixedShop, longShop, "Sokha Coffee", "ហាងសិប្បកម្មអង្គរ", "John Smith"}

// goldenCards are the cards kept as images in testdata/golden: every state in
// both languages for a Khmer name, and a mixed and a long Latin name.
func goldenCards() map[string]Card {
	cards := map[string]Card{}
	for _, lang := range locales.Languages {
		for _, st := range []State{StatePending, StatePaid, StateExpired, StateFailed, StateCancelled} {
			c := pending(khmerName)
			c.State, c.Lang, c.MerchantName = st, lang, khmerShop
			c.Amount, c.Currency, c.InvoiceNumber = "10,000", "KHR", "INV-000043"
			c.PaidAt, c.ShortHash = at, "1a2b3c4d"
			cards[fmt.Sprintf("khmer-%s-%s", st, lang)] = c
		}
	}
	mixed := pending(dynamicUSD)
	mixed.MerchantName, mixed.Lang = mixedShop, locales.Khmer
	cards["mixed-pending-km"] = mixed
	latin := pending(long)
	latin.MerchantName, latin.Amount = longShop, "123,456.78"
	cards["long-pending-en"] = latin
	sandbox := latin
	sandbox.State, sandbox.Sandbox, sandbox.PaidAt, sandbox.ShortHash = StatePaid, true, at, "9f8e7d6c"
	cards["long-paid-sandbox-en"] = sandbox
	noInvoice := pending(dynamicUSD)
	noInvoice.State, noInvoice.InvoiceNumber, noInvoice.PaidAt, noInvoice.ShortHash = StatePaid, "", at, "1a2b3c4d"
	cards["no-footer-paid-en"] = noInvoice
	return cards
}

// TestGolden compares each card with its image in testdata/golden, within
// a tolerance that lets glyphs move by a pixel (a font or rasterizer
// update) but catches text that is missing, misplaced or changed. Run with
// -update to rewrite the images after a deliberate change, and look at them.
func TestGolden(t *testing.T) {
	for name, c := range goldenCards() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "golden", name+".png")
			b, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readPNG(t, path)
			got := render(t, c)
			if n := imagetest.Differ(got, want); n > imagetest.MaxDiffering {
				t.Errorf("%d pixels differ from %s beyond a 1-pixel shift (at most %d may); if the change is meant, run go test ./payments/card -run TestGolden -update and look at the images", n, path, imagetest.MaxDiffering)
			}
		})
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestGoldenTolerance checks the comparison itself: a card moved by one
// pixel matches, a card with another name or state does not.
func TestGoldenTolerance(t *testing.T) {
	c := goldenCards()["khmer-pending-km"]
	c.State = StatePaid
	img := render(t, c)
	shifted := image.NewRGBA(img.Bounds())
	draw.Draw(shifted, shifted.Bounds(), img, img.Bounds().Min.Add(image.Pt(1, 1)), draw.Src)
	draw.Draw(shifted, image.Rect(shifted.Bounds().Max.X-1, 0, shifted.Bounds().Max.X, shifted.Bounds().Max.Y), img, image.Pt(img.Bounds().Max.X-1, 0), draw.Src)
	draw.Draw(shifted, image.Rect(0, shifted.Bounds().Max.Y-1, shifted.Bounds().Max.X, shifted.Bounds().Max.Y), img, image.Pt(0, img.Bounds().Max.Y-1), draw.Src)
	if n := imagetest.Differ(img, shifted); n > imagetest.MaxDiffering {
		t.Errorf("a 1-pixel shift differs in %d pixels", n)
	}
	for name, edit := range map[string]func(c *Card){
		"one letter of the name": func(c *Card) { c.MerchantName = "ហាងកាហ្វេសុខ" },
		"language":               func(c *Card) { c.Lang = locales.English },
		"hash":                   func(c *Card) { c.ShortHash = "1a2b3c4e" },
	} {
		o := c
		edit(&o)
		if n := imagetest.Differ(img, render(t, o)); n <= imagetest.MaxDiffering {
			t.Errorf("%s changed, yet only %d pixels differ", name, n)
		}
	}
}

// TestNoTofu checks from the shaper's output that no .notdef glyph (a tofu
// box) is drawn for any Khmer text nor any name the tests use, in any
// weight. Caption-only emoji, which Telegram draws and the cards never do,
// are left out of the check.
func TestNoTofu(t *testing.T) {
	var faces []*text.Face
	for _, w := range []text.Weight{text.Regular, text.Medium, text.Bold, text.Mono} {
		f, err := text.NewFace(w, 30)
		if err != nil {
			t.Fatal(err)
		}
		faces = append(faces, f)
	}
	check := func(what, s string) {
		for i, f := range faces {
			if l := f.Shape(s); l.Notdef() != 0 {
				t.Errorf("%s: %q has %d .notdef glyphs in weight %d", what, s, l.Notdef(), i)
			}
		}
	}
	keys := locales.Keys(locales.Khmer)
	p := locales.New(locales.Khmer)
	for _, k := range keys {
		s := p.T(k) // unformatted: verbs stay as %s, %d
		if strings.HasPrefix(k, "card.") {
			check(k, s)
			continue
		}
		check(k, strings.Map(func(r rune) rune {
			if unicode.Is(unicode.So, r) || unicode.Is(unicode.Variation_Selector, r) || r == '\u200d' {
				return -1
			}
			return r
		}, s))
	}
	if len(keys) < 100 {
		t.Fatalf("only %d Khmer texts", len(keys))
	}
	for _, n := range testNames {
		check("test name", n)
	}
	check("Khmer digits", "០១២៣៤៥៦៧៨៩ ៛")
}

// TestKhmerDigits checks the locale key that writes amounts in Khmer digits.
func TestKhmerDigits(t *testing.T) {
	w := newWords(locales.Khmer)
	w.digits = digitMapper([]rune("០១២៣៤៥៦៧៨៩"))
	if got := w.digits("20,000.50"); got != "២០,០០០.៥០" {
		t.Errorf("digits = %q", got)
	}
	if got := digitMapper([]rune("0123"))("42"); got != "42" {
		t.Errorf("a digit set of 4 runes mapped 42 to %q", got)
	}
	if got := w.day(at); got != "២៣ វិច្ឆិកា ២០២៥" {
		t.Errorf("Khmer day in Khmer digits = %q", got)
	}
	if got, want := Day(locales.Khmer, at), "23 វិច្ឆិកា 2025"; got != want {
		t.Errorf("Khmer day = %q, want %q", got, want)
	}
	if got := Day("", at); got != "23 Nov 2025" {
		t.Errorf("English day = %q", got)
	}
	if got := newWords(locales.Khmer).date(at); got != "23 វិច្ឆិកា 2025, 07:32" {
		t.Errorf("Khmer date = %q", got)
	}
	if got := newWords("").date(at); got != "23 Nov 2025, 07:32" {
		t.Errorf("English date = %q", got)
	}
	if got := newWords(locales.Khmer).currency("KHR"); got != "៛" {
		t.Errorf("Khmer KHR = %q", got)
	}
}
