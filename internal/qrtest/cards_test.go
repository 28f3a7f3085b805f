package qrtest

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

var long = flag.Bool("long", false, "read all 10,000 generated bot cards, not a sample")

// allCards is how many cards the long test reads: enough that the old
// reader's 1.36% misreads show as 136 cards.
const allCards = 10_000

// hardCards are the first 20 of the 136 generated cards that gozxing's
// detector alone (the reader before this one) could not read, with a
// ChecksumException or NotFoundException; the default sample always has them.
var hardCards = []int{202, 208, 247, 364, 383, 467, 608, 623, 734, 795, 831, 922, 999, 1043, 1129, 1324, 1451, 1623, 1633, 1646}

// botCard renders the i-th generated card the way the bot draws a pending QR:
// a payload from khqr.Encode as payments.Service issues it, and the card
// bot/view.go renders for it, in English or Khmer in turn (the language
// leaves the payload alone, so the hard cards stay hard). The same i always
// gives the same card.
func botCard(i int) (png []byte, payload string, err error) {
	r := rand.New(rand.NewPCG(uint64(i), 0x6b687172))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
	m := payments.Money{Currency: khqr.USD, Amount: 1 + r.Int64N(100_000_00)}
	if r.IntN(2) == 0 {
		m = payments.Money{Currency: khqr.KHR, Amount: 100 + r.Int64N(400_000_000)}
	}
	names := []string{"Sokha Coffee", "khqrbot sandbox", "Angkor Handicraft Shop", "ហាងកាហ្វេសុខា", "Dara"}
	name := names[r.IntN(len(names))]
	exp := now.Add(time.Duration(1+r.IntN(60)) * time.Minute).Truncate(time.Millisecond)
	number := fmt.Sprintf("INV-%06d", 1+r.IntN(999_999))
	info := khqr.Info{
		Type:         khqr.Individual,
		AccountID:    []string{"sokha_coffee@aclb", "sandbox@khqr", "dara@abaa"}[r.IntN(3)],
		MerchantName: name,
		MerchantCity: []string{"Phnom Penh", "Siem Reap"}[r.IntN(2)],
		Currency:     m.Currency,
		Amount:       m.Amount,
		BillNumber:   fmt.Sprintf("%s-%d", number, 1+r.IntN(30)),
		ExpiresAt:    exp,
	}
	if r.IntN(4) == 0 {
		info.Type, info.MerchantID, info.AcquiringBank = khqr.Merchant, fmt.Sprint(r.Int64N(1e12)), "ACLEDA Bank"
	}
	code, err := khqr.Encode(info, now)
	if err != nil {
		return nil, "", fmt.Errorf("card %d: %w", i, err)
	}
	png, err = card.Render(card.Card{
		State:         card.StatePending,
		MerchantName:  name,
		Amount:        m.Number(),
		Currency:      string(m.Currency),
		QR:            code.String,
		InvoiceNumber: number,
		ExpiresAt:     exp,
		Sandbox:       r.IntN(2) == 0,
		Lang:          locales.Languages[i%len(locales.Languages)],
	})
	if err != nil {
		return nil, "", fmt.Errorf("card %d: %w", i, err)
	}
	return png, code.String, nil
}

// TestReadsBotCards reads generated bot cards: by default every 200th and
// the hard ones, with -long all 10,000. Every card must read back its payload.
func TestReadsBotCards(t *testing.T) {
	var cards []int
	if *long {
		for i := range allCards {
			cards = append(cards, i)
		}
	} else {
		for i := 0; i < allCards; i += 200 {
			cards = append(cards, i)
		}
		cards = append(cards, hardCards...)
	}
	var (
		mu    sync.Mutex
		hows  = map[string]int{}
		wrong []string
		next  = make(chan int)
		wg    sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				how, err := readCard(i)
				mu.Lock()
				if err != nil {
					wrong = append(wrong, err.Error())
				} else {
					hows[how]++
				}
				mu.Unlock()
			}
		})
	}
	for _, i := range cards {
		next <- i
	}
	close(next)
	wg.Wait()
	read := hows[byDetector] + hows[byPure] + hows[byScale]
	t.Logf("read %d of %d cards (%.2f%%): %d by the detector, %d as a pure barcode, %d at a smaller scale",
		read, len(cards), 100*float64(read)/float64(len(cards)), hows[byDetector], hows[byPure], hows[byScale])
	for _, w := range wrong {
		t.Error(w)
	}
}

func readCard(i int) (string, error) {
	png, want, err := botCard(i)
	if err != nil {
		return "", err
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return "", fmt.Errorf("card %d: %w", i, err)
	}
	got, how, err := scan(img)
	switch {
	case err != nil:
		return "", fmt.Errorf("card %d: %w", i, err)
	case got != want:
		return "", fmt.Errorf("card %d: read\n%q\nwant\n%q", i, got, want)
	}
	return how, nil
}
