package bot

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// Telegram's limits on what the bot sends with a QR message.
const (
	tgMaxCaption  = 1024 // characters (UTF-16 code units) of a photo caption
	tgMaxCallback = 64   // bytes of callback_data
)

// allLooks lists every look a QR message can have.
var allLooks = []look{lookPending, lookPaid, lookPaidOther, lookExpired, lookFailed, lookCancelled, lookReview, lookRejected}

// worstView is a view of look l with the largest ids, amount and invoice
// number there can be, and note as its description.
func worstView(l look, note string) view {
	inv := &payments.Invoice{ID: math.MaxInt64, Number: "INV-9223372036854775807", ChatID: math.MinInt64,
		Status: payments.InvoiceOpen, Amount: payments.Money{Amount: payments.MaxAmount, Currency: payments.KHR},
		Description: note, PaymentID: math.MaxInt64}
	q := &payments.QR{ID: math.MaxInt64, InvoiceID: math.MaxInt64, ChatID: math.MinInt64, UserID: math.MaxInt64,
		Amount: inv.Amount, Sandbox: true, Deeplink: "https://bakong.page.link/" + strings.Repeat("x", 64),
		ExpiresAt: time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)}
	v := view{Look: l, Invoice: inv, QR: q}
	pay := &payments.Payment{ID: math.MaxInt64, QRID: math.MaxInt64, ShortHash: "1a2b3c4d", Amount: inv.Amount,
		Status: payments.PaymentSettled, PaidAt: time.Date(2026, 12, 31, 23, 58, 0, 0, time.UTC)}
	switch l {
	case lookPaid, lookPaidOther:
		v.Payment, inv.Status = pay, payments.InvoicePaid
	case lookReview: // with Accept and Reject
		v.Payment, inv.Status, pay.Status = pay, payments.InvoiceReview, payments.PaymentReview
	case lookRejected:
		v.Payment, pay.Status = pay, payments.PaymentRejected
	}
	return v
}

// TestCaptionLimit: with the longest note (200 characters), in Khmer with
// its combining signs or in emoji (two UTF-16 units each), the largest
// amount and invoice number, every caption in every language stays within
// Telegram's 1024.
func TestCaptionLimit(t *testing.T) {
	b := &Bot{cfg: Config{Sandbox: true}, loc: payments.Cambodia()}
	notes := map[string]string{
		"khmer": strings.Repeat("ខ្មែរ", payments.MaxDescription/5),
		"emoji": strings.Repeat("🧋", payments.MaxDescription),
		"ascii": strings.Repeat("w", payments.MaxDescription),
	}
	for name, note := range notes {
		if n := len([]rune(note)); n != payments.MaxDescription {
			t.Fatalf("%s note has %d characters, want %d", name, n, payments.MaxDescription)
		}
		for _, lang := range []string{locales.English, locales.Khmer} {
			for _, l := range allLooks {
				c := b.caption(locales.New(lang), worstView(l, note))
				if n := len(utf16.Encode([]rune(c))); n > tgMaxCaption {
					t.Errorf("%s/%s caption with a %s note is %d characters, Telegram allows %d", l, lang, name, n, tgMaxCaption)
				}
				if !strings.Contains(c, note) {
					t.Errorf("%s/%s caption lost the %s note", l, lang, name)
				}
			}
		}
	}
}

// TestCallbackDataLimit: every button of every look, with int64's largest
// ids, carries callback data within Telegram's 64 bytes that parses back to
// the same id; so does every action on its own.
func TestCallbackDataLimit(t *testing.T) {
	p := locales.New(locales.English)
	b := &Bot{cfg: Config{Sandbox: true}}
	seen := map[string]bool{}
	for _, l := range allLooks {
		v := worstView(l, "x")
		v.QR.ChatID = v.Invoice.ChatID // the admin's own chat: every button shows
		kb, _ := b.keyboard(p, v).(*models.InlineKeyboardMarkup)
		if kb == nil {
			continue
		}
		for _, row := range kb.InlineKeyboard {
			for _, btn := range row {
				if btn.URL != "" {
					continue
				}
				checkCallbackData(t, string(l)+" "+btn.Text, btn.CallbackData)
				a, _, _ := strings.Cut(btn.CallbackData, ":")
				seen[a] = true
			}
		}
	}
	for _, a := range []action{actCheck, actCancel, actNew, actSim, actAccept, actReject} {
		if !seen[string(a)] {
			t.Errorf("no look shows a %q button: the worst cases miss one", a)
		}
	}
	for _, a := range []action{actCheck, actCancel, actNew, actSim, actPage, actAccept, actReject} {
		checkCallbackData(t, string(a), callback{a, math.MaxInt64}.String())
	}
}

func checkCallbackData(t *testing.T, what, data string) {
	t.Helper()
	if n := len(data); n < 1 || n > tgMaxCallback {
		t.Errorf("%s: callback data %q is %d bytes, Telegram allows 1 to %d", what, data, n, tgMaxCallback)
	}
	c, err := parseCallback(data)
	if err != nil || c.ID != math.MaxInt64 {
		t.Errorf("%s: %q parses to %+v, %v; want id %d", what, data, c, err, int64(math.MaxInt64))
	}
}
