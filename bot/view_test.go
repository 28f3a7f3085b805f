package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

func testView(l look) view {
	inv := &payments.Invoice{ID: 42, Number: "INV-000042", ChatID: 7, Status: payments.InvoiceOpen,
		Amount: payments.Money{Amount: 500, Currency: payments.USD}, Description: "iced coffee"}
	q := &payments.QR{ID: 9, InvoiceID: 42, ChatID: 7, Amount: inv.Amount, Sandbox: true, Deeplink: "https://bakong.page.link/x",
		ExpiresAt: time.Date(2026, 3, 1, 7, 32, 0, 0, time.UTC)}
	v := view{Look: l, Invoice: inv, QR: q}
	if l == lookPaid || l == lookReview || l == lookPaidOther || l == lookRejected {
		v.Payment = &payments.Payment{ID: 5, ShortHash: "1a2b3c4d", Amount: inv.Amount, Status: payments.PaymentSettled,
			PaidAt: time.Date(2026, 3, 1, 7, 30, 0, 0, time.UTC)}
	}
	switch l {
	case lookPaid, lookPaidOther:
		inv.Status = payments.InvoicePaid
	case lookReview:
		inv.Status, v.Payment.Status = payments.InvoiceReview, payments.PaymentReview
	case lookRejected:
		v.Payment.Status = payments.PaymentRejected
	}
	return v
}

func buttons(kb models.ReplyMarkup) []string {
	var out []string
	if m, ok := kb.(*models.InlineKeyboardMarkup); ok {
		for _, row := range m.InlineKeyboard {
			for _, b := range row {
				out = append(out, b.Text+"|"+b.CallbackData+b.URL)
			}
		}
	}
	return out
}

func TestCaption(t *testing.T) {
	b := &Bot{cfg: Config{Sandbox: true}, loc: payments.Cambodia()}
	tests := []struct {
		look    look
		lang    string
		want    []string
		wantNot []string
	}{
		{lookPending, "en", []string{"🧾 Invoice INV-000042", "5.00 USD", "📝 iced coffee", "Expires at 14:32", "SANDBOX: no real money"}, []string{"Paid"}},
		{lookPending, "km", []string{"វិក្កយបត្រ INV-000042", "ផុតកំណត់នៅម៉ោង 14:32", "មិនមែនប្រាក់ពិតទេ"}, nil},
		{lookPaid, "en", []string{"✅ Paid", "2026-03-01 14:30", "Transaction 1a2b3c4d"}, []string{"Expires"}},
		{lookPaidOther, "en", []string{"Paid with another QR"}, []string{"1a2b3c4d"}},
		{lookExpired, "en", []string{"expired", "New QR"}, []string{"Expires at"}},
		{lookFailed, "km", []string{"បរាជ័យ"}, nil},
		{lookCancelled, "en", []string{"cancelled"}, nil},
		{lookReview, "en", []string{"the shop is checking", "1a2b3c4d"}, nil},
		{lookRejected, "en", []string{"did not accept this payment", "Press New QR", "1a2b3c4d"}, []string{"checking"}},
		{lookRejected, "km", []string{"ហាងមិនបានទទួលយក", "QR ថ្មី"}, nil},
	}
	for _, tt := range tests {
		got := b.caption(locales.New(tt.lang), testView(tt.look))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s/%s caption %q lacks %q", tt.look, tt.lang, got, w)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(got, w) {
				t.Errorf("%s/%s caption %q has %q", tt.look, tt.lang, got, w)
			}
		}
		if n := len([]rune(got)); n > 1024 {
			t.Errorf("%s caption is %d characters, Telegram allows 1024", tt.look, n)
		}
	}
	long := testView(lookPaid)
	long.Invoice.Description = strings.Repeat("ខ", payments.MaxDescription)
	if n := len([]rune(b.caption(locales.New("km"), long))); n > 1024 {
		t.Errorf("caption with the longest note is %d characters", n)
	}
}

func TestKeyboard(t *testing.T) {
	p := locales.New("en")
	sandbox := &Bot{cfg: Config{Sandbox: true}}
	live := &Bot{}
	customerQR := testView(lookPending)
	customerQR.QR.ChatID = 99 // opened through an invoice link: not the admin's chat
	noLink := testView(lookPending)
	noLink.QR.Deeplink = ""
	closed := testView(lookExpired)
	closed.Invoice.Status = payments.InvoiceCancelled
	reviewCustomer := testView(lookReview)
	reviewCustomer.QR.ChatID = 99
	reviewPaid := testView(lookReview) // a correct payment settled the invoice meanwhile
	reviewPaid.Invoice.Status = payments.InvoicePaid
	reviewDecided := testView(lookReview)
	reviewDecided.Payment.Status = payments.PaymentSettled
	rejectedStill := testView(lookRejected) // another payment still awaits review
	rejectedStill.Invoice.Status = payments.InvoiceReview
	tests := []struct {
		name string
		b    *Bot
		v    view
		want []string
	}{
		{"pending sandbox", sandbox, testView(lookPending), []string{"Pay with Bakong|https://bakong.page.link/x", "Check status|chk:9", "Cancel|cnl:42", "🧪 Simulate payment|sim:9"}},
		{"pending live", live, testView(lookPending), []string{"Pay with Bakong|https://bakong.page.link/x", "Check status|chk:9", "Cancel|cnl:42"}},
		{"customer chat", live, customerQR, []string{"Pay with Bakong|https://bakong.page.link/x", "Check status|chk:9"}},
		{"no deeplink", live, noLink, []string{"Check status|chk:9", "Cancel|cnl:42"}},
		{"paid", sandbox, testView(lookPaid), nil},
		{"paid elsewhere", sandbox, testView(lookPaidOther), nil},
		{"expired", sandbox, testView(lookExpired), []string{"New QR|new:9"}},
		{"failed", sandbox, testView(lookFailed), []string{"New QR|new:9"}},
		{"expired, invoice cancelled", sandbox, closed, nil},
		{"cancelled", sandbox, testView(lookCancelled), nil},
		{"review", sandbox, testView(lookReview), []string{"Check status|chk:9", "Cancel|cnl:42", "Accept payment|acc:5", "Reject|rej:5"}},
		{"review in a customer's chat", sandbox, reviewCustomer, []string{"Check status|chk:9"}},
		{"review, invoice paid", sandbox, reviewPaid, []string{"Check status|chk:9", "Cancel|cnl:42", "Reject|rej:5"}},
		{"review, payment decided", sandbox, reviewDecided, []string{"Check status|chk:9", "Cancel|cnl:42"}},
		{"rejected, invoice open", sandbox, testView(lookRejected), []string{"New QR|new:9"}},
		{"rejected, invoice in review", sandbox, rejectedStill, nil},
	}
	for _, tt := range tests {
		kb := tt.b.keyboard(p, tt.v)
		got := buttons(kb)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: buttons %q, want %q", tt.name, got, tt.want)
		}
		if tt.want == nil && kb != nil {
			t.Errorf("%s: want no keyboard at all (a typed nil would send null)", tt.name)
		}
	}
}

func TestCardPerLook(t *testing.T) {
	b := &Bot{cfg: Config{MerchantName: "Test Shop"}, loc: payments.Cambodia()}
	for _, l := range []look{lookPaid, lookPaidOther, lookExpired, lookFailed, lookCancelled, lookReview, lookRejected} {
		png, err := b.card(testView(l), "en")
		if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
			t.Errorf("%s card: %d bytes, %v", l, len(png), err)
		}
	}
	v := testView(lookPending)
	v.QR.Payload = "00020101021229180014testshop@abaa5204599953038405405" // the card only draws it
	if _, err := b.card(v, "en"); err != nil {
		t.Errorf("pending card: %v", err)
	}
	v = testView(lookPaid)
	v.Payment = nil
	if _, err := b.card(v, "en"); err == nil {
		t.Error("a paid card without its payment rendered")
	}
}

func TestAgo(t *testing.T) {
	p := locales.New("en")
	tests := map[time.Duration]string{
		-time.Minute: "0 min", 59 * time.Second: "0 min", 5 * time.Minute: "5 min",
		90 * time.Minute: "1 h 30 min", 26 * time.Hour: "1 d 2 h",
	}
	for d, want := range tests {
		if got := ago(p, d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		m    payments.Money
		want string
	}{
		{payments.Money{Amount: 500, Currency: payments.USD}, "5.00"},
		{payments.Money{Amount: 1, Currency: payments.USD}, "0.01"},
		{payments.Money{Amount: -250, Currency: payments.USD}, "-2.50"},
		{payments.Money{Amount: 10000, Currency: payments.KHR}, "10000"},
	}
	for _, tt := range tests {
		if got := tt.m.Decimal(); got != tt.want {
			t.Errorf("%v.Decimal() = %q, want %q", tt.m, got, tt.want)
		}
	}
}
