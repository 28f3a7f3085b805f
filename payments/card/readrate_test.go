package card

import (
	"flag"
	"fmt"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"github.com/khqrbot/khqrbot/internal/qrtest"
	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	khqrcodec "github.com/khqrbot/khqrbot/payments/khqr"
)

var cardCount = flag.Int("cards", 40, "how many generated cards TestQRReadRate scans; the acceptance run is -cards=2000")

// Words the generated names are made of.
var (
	latinWords = []string{"Sokha", "Coffee", "Angkor", "Mart", "Phnom", "Penh", "Noodle", "Shop", "Bakery", "Dara", "Srey", "Pich", "Tea", "Silk", "Phone", "Repair", "Kampot", "Pepper"}
	khmerWords = []string{"ហាង", "កាហ្វេ", "សុខា", "អង្គរ", "ភ្នំពេញ", "នំបុ័ង", "សិប្បកម្ម", "តែ", "ស្ត្រី", "ក្រុង", "ម្ហូប", "ថ្មី", "ផ្សារ", "ទូរស័ព្ទ", "ជួសជុល"}
)

// genCard returns the i-th generated pending card: a real KHQR (individual
// or merchant, USD or KHR, optional fields and Khmer name) and a card in
// either language with a Latin, Khmer or mixed name of any length.
func genCard(t testing.TB, rng *rand.Rand, i int) Card {
	t.Helper()
	pick := func(ws []string, n int) string {
		p := make([]string, n)
		for k := range p {
			p[k] = ws[rng.IntN(len(ws))]
		}
		return strings.Join(p, " ")
	}
	now := time.Date(2025, 11, 23, 7, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	info := khqrcodec.Info{
		AccountID:    fmt.Sprintf("%s_%d@%s", strings.ToLower(latinWords[rng.IntN(len(latinWords))]), rng.IntN(1000), []string{"aclb", "abaa", "wing", "devb"}[rng.IntN(4)]),
		MerchantName: pick(latinWords, 1+rng.IntN(2)),
		Currency:     khqrcodec.USD,
		Amount:       1 + rng.Int64N(10_000_000),
		BillNumber:   fmt.Sprintf("INV-%06d-%02d", i, rng.IntN(100)),
		ExpiresAt:    now.Add(time.Duration(1+rng.IntN(10)) * time.Minute),
	}
	if rng.IntN(2) == 0 {
		info.Currency, info.Amount = khqrcodec.KHR, 100*(1+rng.Int64N(5_000_000))
	}
	if rng.IntN(3) == 0 {
		info.MerchantID, info.AcquiringBank = fmt.Sprintf("%013d", rng.Int64N(1e13)), "Advanced Bank of Asia"
	}
	if rng.IntN(2) == 0 {
		info.LanguagePreference, info.MerchantNameAlt, info.MerchantCityAlt = "km", pick(khmerWords, 1+rng.IntN(2)), "ភ្នំពេញ"
	}
	if rng.IntN(3) == 0 {
		info.MobileNumber, info.StoreLabel, info.Purpose = fmt.Sprintf("855%08d", rng.IntN(1e8)), pick(latinWords, 1), pick(latinWords, 2)
	}
	q, err := khqrcodec.Encode(info, now)
	if err != nil {
		t.Fatalf("card %d: encode %+v: %v", i, info, err)
	}
	var name string
	switch rng.IntN(4) {
	case 0:
		name = pick(latinWords, 1+rng.IntN(8))
	case 1:
		name = pick(khmerWords, 1+rng.IntN(6))
	case 2:
		name = pick(latinWords, 1) + " " + pick(khmerWords, 1+rng.IntN(3)) + fmt.Sprint(rng.IntN(100))
	}
	return Card{
		State:         StatePending,
		MerchantName:  name,
		Amount:        payments.Money{Amount: info.Amount, Currency: payments.Currency(info.Currency)}.Number(),
		Currency:      string(info.Currency),
		QR:            q.String,
		InvoiceNumber: info.BillNumber[:10],
		ExpiresAt:     info.ExpiresAt,
		Sandbox:       rng.IntN(4) == 0,
		Lang:          locales.Languages[rng.IntN(len(locales.Languages))],
	}
}

// phone does to a card what a chat app may: scale it to 320 px wide and
// save it as JPEG of quality 80.
func phone(t testing.TB, img image.Image) image.Image {
	t.Helper()
	b := img.Bounds()
	small := image.NewRGBA(image.Rect(0, 0, 320, b.Dy()*320/b.Dx()))
	draw.BiLinear.Scale(small, small.Bounds(), img, b, draw.Src, nil)
	return jpegAt(t, small, 80)
}

// TestQRReadRate scans generated cards with the independent reader, as PNG
// and after phone(): every one must read back its payload. By default it
// scans a deterministic sample (fewer with -short or -race); -cards=2000 is
// the acceptance run.
func TestQRReadRate(t *testing.T) {
	n := *cardCount
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "cards" })
	if (testing.Short() || raceDetector) && !explicit {
		n = min(n, 10) // the same first cards: a quick check that they still read
	}
	rng := rand.New(rand.NewPCG(12, 34)) // the default sample is the first cards of the acceptance run
	read := func(img image.Image, want string) bool {
		got, err := qrtest.Scan(img)
		return err == nil && got == want
	}
	var pngOK, jpegOK int
	var failed []string
	for i := range n {
		c := genCard(t, rng, i)
		img := render(t, c)
		okPNG, okJPEG := read(img, c.QR), read(phone(t, img), c.QR)
		if okPNG {
			pngOK++
		}
		if okJPEG {
			jpegOK++
		}
		if !okPNG || !okJPEG {
			failed = append(failed, fmt.Sprintf("card %d (PNG %v, JPEG %v): %+v", i, okPNG, okJPEG, c))
		}
	}
	t.Logf("%d generated cards: %d read as PNG (%.2f%%), %d after 320 px JPEG q80 (%.2f%%)",
		n, pngOK, 100*float64(pngOK)/float64(n), jpegOK, 100*float64(jpegOK)/float64(n))
	for _, f := range failed {
		t.Errorf("unread: %s", f)
	}
}
