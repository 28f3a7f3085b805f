package card

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/khqrbot/khqrbot/internal/qrtest"
)

// tlv writes one KHQR field; lengths count UTF-16 units, as in the spec.
func tlv(tag, v string) string {
	return fmt.Sprintf("%s%02d%s", tag, len(utf16.Encode([]rune(v))), v)
}

// khqr joins fields into a payload closed by its CRC (CRC-16/CCITT-FALSE).
func khqr(fields ...string) string {
	s := strings.Join(fields, "") + "6304"
	crc := uint16(0xFFFF)
	for _, b := range []byte(s) {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return fmt.Sprintf("%s%04X", s, crc)
}

var (
	static = khqr(tlv("00", "01"), tlv("01", "11"), tlv("29", tlv("00", "john_smith@devb")),
		tlv("52", "5999"), tlv("53", "116"), tlv("58", "KH"), tlv("59", "John Smith"), tlv("60", "Phnom Penh"))
	dynamicUSD = khqr(tlv("00", "01"), tlv("01", "12"), tlv("29", tlv("00", "sokha_coffee@aclb")),
		tlv("52", "5999"), tlv("53", "840"), tlv("54", "5"), tlv("58", "KH"), tlv("59", "Sokha Coffee"),
		tlv("60", "Phnom Penh"), tlv("62", tlv("01", "INV-000042-01")),
		tlv("99", tlv("00", "1763883120000")+tlv("01", "1763883720000")))
	khmerName = khqr(tlv("00", "01"), tlv("01", "12"), tlv("29", tlv("00", "sokha_coffee@aclb")),
		tlv("52", "5999"), tlv("53", "116"), tlv("54", "10000"), tlv("58", "KH"), tlv("59", "ហាងកាហ្វេសុខា"),
		tlv("60", "Phnom Penh"), tlv("62", tlv("01", "INV-000043-02")),
		tlv("64", tlv("00", "km")+tlv("01", "ហាងកាហ្វេសុខា")+tlv("02", "ភ្នំពេញ")),
		tlv("99", tlv("00", "1763883120000")+tlv("01", "1763883720000")))
	long = khqr(tlv("00", "01"), tlv("01", "12"),
		tlv("30", tlv("00", "merchant_account_long@abaa")+tlv("01", "1234567890123")+tlv("02", "Advanced Bank of Asia")),
		tlv("52", "5999"), tlv("53", "840"), tlv("54", "123456.78"), tlv("58", "KH"),
		tlv("59", "Angkor Handicraft Shop"), tlv("60", "Siem Reap"),
		tlv("62", tlv("01", "INV-000044-03")+tlv("02", "85512345678")+tlv("03", "Pub Street Branch")+
			tlv("07", "Counter 2")+tlv("08", "Silk scarves, 3 pieces")),
		tlv("64", tlv("00", "km")+tlv("01", "ហាងសិប្បកម្មអង្គរ")+tlv("02", "សៀមរាប")),
		tlv("99", tlv("00", "1763883120000")+tlv("01", "1763883720000")))
)

func TestPayloadSizes(t *testing.T) {
	if len(long) < 300 {
		t.Fatalf("long payload is %d bytes; the decode test wants at least 300", len(long))
	}
}

var at = time.Date(2025, 11, 23, 7, 32, 0, 0, time.UTC)

func pending(qr string) Card {
	return Card{State: StatePending, MerchantName: "Sokha Coffee", Amount: "5.00", Currency: "USD",
		QR: qr, InvoiceNumber: "INV-000042", ExpiresAt: at}
}

// render renders c and decodes the PNG.
func render(t *testing.T, c Card) image.Image {
	t.Helper()
	b, err := Render(c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w < 720 {
		t.Fatalf("width %d, want at least 720", w)
	}
	return img
}

// recompress does to img what Telegram does to a photo.
func recompress(t testing.TB, img image.Image) image.Image { return jpegAt(t, img, 60) }

// jpegAt saves img as JPEG of quality q and decodes it again.
func jpegAt(t testing.TB, img image.Image, q int) image.Image {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPendingQRDecodes(t *testing.T) {
	khmer := pending(khmerName)
	khmer.MerchantName, khmer.Amount, khmer.Currency = "ហាងកាហ្វេសុខា", "10,000", "KHR"
	noExpiry := pending(static)
	noExpiry.ExpiresAt, noExpiry.InvoiceNumber = time.Time{}, ""
	sandbox := func(c Card) Card { c.Sandbox = true; return c }
	for _, tc := range []struct {
		name string
		card Card
	}{
		{"static", noExpiry},
		{"dynamic USD", pending(dynamicUSD)},
		{"dynamic USD sandbox", sandbox(pending(dynamicUSD))},
		{"Khmer in payload and name", khmer},
		{"Khmer sandbox", sandbox(khmer)},
		{"long", pending(long)},
		{"long sandbox", sandbox(pending(long))},
		{"longest accepted", pending(strings.Repeat("0123456789ABCDEF", MaxQR/16))},
		{"not KHQR at all", pending("https://example.com/ញ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := render(t, tc.card)
			for _, v := range []struct {
				name string
				img  image.Image
			}{{"PNG", img}, {"JPEG", recompress(t, img)}} {
				got, err := qrtest.Scan(v.img)
				if err != nil {
					t.Fatalf("%s: scan: %v", v.name, err)
				}
				if got != tc.card.QR {
					t.Fatalf("%s: scanned\n%q\nwant\n%q", v.name, got, tc.card.QR)
				}
			}
		})
	}
}

func TestStateCardsHaveNoQR(t *testing.T) {
	base := pending(dynamicUSD) // QR set on purpose: only pending may draw it
	base.PaidAt, base.ShortHash = at, "1a2b3c4d"
	want := render(t, base).Bounds()
	for _, tc := range []struct {
		state   State
		sandbox bool
	}{{StatePaid, false}, {StatePaid, true}, {StateExpired, false}, {StateFailed, true}, {StateCancelled, false}} {
		c := base
		c.State, c.Sandbox = tc.state, tc.sandbox
		t.Run(fmt.Sprintf("%s/sandbox=%v", tc.state, tc.sandbox), func(t *testing.T) {
			t.Parallel()
			img := render(t, c)
			if got, err := qrtest.Scan(img); err == nil {
				t.Fatalf("scanned a QR %q from a %s card", got, tc.state)
			}
			if !tc.sandbox && img.Bounds() != want {
				t.Errorf("bounds %v, want %v like the pending card, so an edited message keeps its size", img.Bounds(), want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	paid := Card{State: StatePaid, Amount: "5.00", Currency: "USD", PaidAt: at, ShortHash: "1a2b3c4d"}
	for _, tc := range []struct {
		name  string
		edit  func(c *Card)
		field string // "" when valid
	}{
		{"paid", func(*Card) {}, ""},
		{"pending", func(c *Card) { *c = pending(static) }, ""},
		{"expired needs no times", func(c *Card) { c.State, c.PaidAt, c.ShortHash = StateExpired, time.Time{}, "" }, ""},
		{"KHR with separators", func(c *Card) { c.Amount, c.Currency = "1,000,000", "KHR" }, ""},
		{"full hash", func(c *Card) { c.ShortHash = strings.Repeat("aB", 32) }, ""},
		{"unknown state", func(c *Card) { c.State = "done" }, "State"},
		{"empty state", func(c *Card) { c.State = "" }, "State"},
		{"empty amount", func(c *Card) { c.Amount = "" }, "Amount"},
		{"amount with currency", func(c *Card) { c.Amount = "$5" }, "Amount"},
		{"negative amount", func(c *Card) { c.Amount = "-5.00" }, "Amount"},
		{"separators only", func(c *Card) { c.Amount = ",." }, "Amount"},
		{"leading separator", func(c *Card) { c.Amount = ".50" }, "Amount"},
		{"Khmer digits", func(c *Card) { c.Amount = "១០០" }, "Amount"},
		{"huge amount", func(c *Card) { c.Amount = strings.Repeat("9", 33) }, "Amount"},
		{"currency", func(c *Card) { c.Currency = "EUR" }, "Currency"},
		{"Khmer", func(c *Card) { c.Lang = "km" }, ""},
		{"language", func(c *Card) { c.Lang = "fr" }, "Lang"},
		{"lower-case currency", func(c *Card) { c.Currency = "usd" }, "Currency"},
		{"pending without QR", func(c *Card) { c.State = StatePending }, "QR"},
		{"QR too long", func(c *Card) { c.State, c.QR = StatePending, strings.Repeat("0", MaxQR+1) }, "QR"},
		{"QR not UTF-8", func(c *Card) { c.State, c.QR = StatePending, "000201\xff" }, "QR"},
		{"paid without time", func(c *Card) { c.PaidAt = time.Time{} }, "PaidAt"},
		{"paid without hash", func(c *Card) { c.ShortHash = "" }, "ShortHash"},
		{"hash not hex", func(c *Card) { c.ShortHash = "1a2b3c4g" }, "ShortHash"},
		{"hash too long", func(c *Card) { c.ShortHash = strings.Repeat("a", 65) }, "ShortHash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := paid
			tc.edit(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Field != tc.field {
				t.Fatalf("Validate: %v, want an *Error on %s", err, tc.field)
			}
			if _, rerr := Render(c); !errors.As(rerr, &e) {
				t.Fatalf("Render: %v, want the validation error", rerr)
			}
		})
	}
}

// TestCleanedText checks that what no font can draw is left out, never
// drawn as boxes: the image equals one with the text cleaned by hand.
func TestCleanedText(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Card, s string)
	}{
		{"merchant name", func(c *Card, s string) { c.MerchantName = s }},
		{"invoice number", func(c *Card, s string) { c.InvoiceNumber = s }},
	} {
		for _, st := range []State{StatePending, StatePaid} {
			for _, v := range []struct{ in, want string }{
				{"bad \xff UTF-8", "bad UTF-8"},
				{"line\nbreak", "line break"},
				{"\u200b", ""},
				{"☕ ហាង 日本", "ហាង"},
			} {
				c := pending(static)
				c.State, c.PaidAt, c.ShortHash = st, at, "1a2b3c4d"
				tc.edit(&c, v.want)
				want, err := Render(c)
				if err != nil {
					t.Fatal(err)
				}
				tc.edit(&c, v.in)
				got, err := Render(c)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s on a %s card: %q is not drawn as %q", tc.name, st, v.in, v.want)
				}
			}
		}
	}
	for _, name := range []string{"Sokha Coffee", "ហាងកាហ្វេសុខា"} {
		c := pending(static)
		c.MerchantName = name
		blank := c
		blank.MerchantName = ""
		got, err := Render(c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Render(blank)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(got, want) {
			t.Errorf("the merchant name %q was not drawn", name)
		}
	}
}

func TestLocation(t *testing.T) {
	c := Card{State: StatePaid, Amount: "5.00", Currency: "USD", PaidAt: at, ShortHash: "1a2b3c4d"}
	png := func(loc *time.Location) []byte {
		c.Location = loc
		b, err := Render(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	def := png(nil)
	if !bytes.Equal(def, png(time.FixedZone("ICT", 7*60*60))) {
		t.Error("nil Location does not show Phnom Penh time")
	}
	if bytes.Equal(def, png(time.UTC)) {
		t.Error("Location is ignored")
	}
}

// TestOddInput renders edge cases that must neither panic nor fail.
func TestOddInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		card Card
	}{
		{"minimal pending", Card{State: StatePending, Amount: "0", Currency: "KHR", QR: "x"}},
		{"minimal paid", Card{State: StatePaid, Amount: "1", Currency: "USD", PaidAt: at, ShortHash: "a"}},
		{"longest amount", Card{State: StatePending, Amount: strings.Repeat("9,999", 5) + ".00", Currency: "USD", QR: "x"}},
		{"longest amount struck", Card{State: StateCancelled, Amount: strings.Repeat("8", maxAmount), Currency: "KHR"}},
		{"long names", Card{State: StateExpired, Amount: "5", Currency: "USD", ExpiresAt: at,
			MerchantName: strings.Repeat("W", 500), InvoiceNumber: strings.Repeat("INV-", 100)}},
		{"long invoice with expiry", Card{State: StatePending, Amount: "5", Currency: "USD", QR: "x",
			ExpiresAt: at, InvoiceNumber: strings.Repeat("M", 200)}},
		{"huge names", Card{State: StatePending, Amount: "5", Currency: "USD", QR: "x",
			MerchantName: strings.Repeat("W", 1<<20), InvoiceNumber: strings.Repeat("ក", 1<<20)}},
		{"full hash", Card{State: StatePaid, Amount: "5", Currency: "USD", PaidAt: at, ShortHash: strings.Repeat("f", 64)}},
		{"far times", Card{State: StateExpired, Amount: "5", Currency: "USD", ExpiresAt: time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			render(t, tc.card)
		})
	}
}

func FuzzRender(f *testing.F) {
	f.Add("pending", "Sokha Coffee", "5.00", "USD", dynamicUSD, "INV-000042", "1a2b3c4d", true)
	f.Add("paid", "ហាងកាហ្វេ", "10,000", "KHR", "", "", "ABCDEF01", false)
	f.Add("expired", "", "", "", "", "\xff", "", false)
	f.Fuzz(func(t *testing.T, state, name, amount, currency, qr, invoice, hash string, sandbox bool) {
		c := Card{State: State(state), MerchantName: name, Amount: amount, Currency: currency, QR: qr,
			InvoiceNumber: invoice, ExpiresAt: at, PaidAt: at, ShortHash: hash, Sandbox: sandbox}
		b, err := Render(c)
		if err != nil {
			return
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("Render made a bad PNG: %v", err)
		}
	})
}

// BenchmarkCardPNG renders the pending card the bot sends most often, in
// English and, with the merchant's Khmer name, in Khmer; "km/new-name"
// shapes a name never seen before on every card, as a first card does. The
// target is 15 ms/op; cpu-ms/op is the process's CPU time per card, which
// a machine shared with other work does not inflate.
func BenchmarkCardPNG(b *testing.B) {
	en := pending(dynamicUSD)
	km := pending(khmerName)
	km.MerchantName, km.Amount, km.Currency, km.Lang = "ហាងកាហ្វេសុខា", "10,000", "KHR", "km"
	for _, bc := range []struct {
		name    string
		card    Card
		newName bool
	}{{"en", en, false}, {"km", km, false}, {"km/new-name", km, true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.card
			var n, i int
			cpu := cpuTime()
			for b.Loop() {
				if bc.newName {
					i++
					c.MerchantName = fmt.Sprintf("ហាងកាហ្វេសុខា %d", i)
				}
				p, err := Render(c)
				if err != nil {
					b.Fatal(err)
				}
				n = len(p)
			}
			b.ReportMetric(float64(n), "png-bytes")
			// Render runs on one goroutine, so CPU time is its own time.
			b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}
