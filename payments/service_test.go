package payments_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

func TestNewServiceConfig(t *testing.T) {
	h := newHarness(t)
	m := h.cfg.Merchant
	tests := []struct {
		name string
		cfg  payments.Config
		want string // "" valid
	}{
		{"defaults", payments.Config{Merchant: m}, ""},
		{"ten minutes", payments.Config{Merchant: m, QRTTL: payments.MaxQRTTL}, ""},
		{"over ten minutes", payments.Config{Merchant: m, QRTTL: payments.MaxQRTTL + time.Second}, "at most 10m0s"},
		{"negative lifetime", payments.Config{Merchant: m, QRTTL: -time.Minute}, "QR lifetime"},
		{"negative grace", payments.Config{Merchant: m, Grace: -time.Second}, "grace"},
		{"no merchant", payments.Config{}, "name@bank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := payments.NewService(h.db, h.api, h.clk, tt.cfg, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, payments.EInvalid)
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
	if _, err := payments.NewService(nil, h.api, h.clk, h.cfg, nil); payments.ErrorCode(err) != payments.EInvalid {
		t.Fatalf("no store: %v, want EInvalid", err)
	}
}

func TestCreateInvoice(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	if inv.ID == 0 || inv.Number != payments.InvoiceNumber(inv.ID) || inv.Status != payments.InvoiceOpen || !inv.CreatedAt.Equal(h.clk.Now()) {
		t.Fatalf("invoice %+v", inv)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(inv.Token) {
		t.Fatalf("token %q: want 22 URL-safe characters", inv.Token)
	}
	if other := h.invoice(usd5); other.Token == inv.Token {
		t.Fatal("two invoices share a token")
	}
	got, err := h.db.InvoiceByToken(h.ctx, inv.Token)
	if err != nil || got.ID != inv.ID {
		t.Fatalf("InvoiceByToken: %v, %v", got, err)
	}

	for _, n := range []payments.NewInvoice{
		{Kind: payments.KindPay, Amount: payments.Money{Amount: 0, Currency: payments.USD}},
		{Kind: payments.KindPay, Amount: payments.Money{Amount: 100, Currency: "EUR"}},
		{Kind: "gift", Amount: usd5},
		{Kind: payments.KindInvoice, Amount: usd5, Description: strings.Repeat("ក", payments.MaxDescription+1)},
	} {
		if _, err := h.svc.CreateInvoice(h.ctx, n); payments.ErrorCode(err) != payments.EInvalid {
			t.Errorf("CreateInvoice(%+v): %v, want EInvalid", n, err)
		}
	}
}

func TestIssueQR(t *testing.T) {
	for _, tt := range []struct {
		name     string
		merchant payments.Merchant
		typ      khqr.MerchantType
	}{
		{"individual", payments.Merchant{AccountID: shop, Name: "Coffee Shop", City: "Siem Reap"}, khqr.Individual},
		{"merchant", payments.Merchant{AccountID: shop, Name: "Coffee Shop", MerchantID: "123456", AcquiringBank: "Dev Bank"}, khqr.Merchant},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withMerchant(tt.merchant))
			inv := h.invoice(payments.Money{Amount: 10000, Currency: payments.KHR})
			now := h.clk.Now()
			q := h.qr(inv.ID)
			if q.BillNumber != inv.Number+"-1" || q.Status != payments.QRPending || !q.ExpiresAt.Equal(now.Add(ttl)) ||
				!q.NextCheckAt.Equal(now) || q.Receiver != shop || q.Deeplink == "" || !q.Sandbox || q.ChatID != 10 || q.UserID != 1 {
				t.Fatalf("QR %+v", q)
			}
			d, err := khqr.Decode(q.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if d.MerchantType != tt.typ || d.AccountID != shop || d.BillNumber != q.BillNumber || d.Amount != "10000" || d.Currency != "116" ||
				d.MerchantID != tt.merchant.MerchantID || d.ExpirationTimestamp != formatMs(q.ExpiresAt) {
				t.Fatalf("decoded %+v", d)
			}
			if err := khqr.Verify(q.Payload, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			stored := h.getQR(q.ID)
			if stored.MD5 != q.MD5 || stored.Payload != q.Payload || stored.Deeplink != q.Deeplink {
				t.Fatalf("stored QR %+v differs from %+v", stored, q)
			}
			if q2 := h.qr(inv.ID); q2.BillNumber != inv.Number+"-2" {
				t.Fatalf("second bill number %s", q2.BillNumber)
			}
		})
	}
}

func formatMs(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestIssueQRDeeplinkFails(t *testing.T) {
	h := newHarness(t)
	h.setFault("generate_deeplink_by_qr", sim.Fault{ErrorCode: 4})
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	if q.Deeplink != "" || h.getQR(q.ID).Deeplink != "" {
		t.Fatalf("deeplink %q, want none", q.Deeplink)
	}
	h.pay(q, sim.Payment{})
	h.tick()
	h.wantInvoice(inv.ID, payments.InvoicePaid)
}

func TestIssueQRNotOpen(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	if _, err := h.svc.Cancel(h.ctx, inv.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err := h.svc.IssueQR(h.ctx, payments.QRRequest{InvoiceID: inv.ID})
	wantCode(t, err, payments.EConflict)
	_, err = h.svc.IssueQR(h.ctx, payments.QRRequest{InvoiceID: 999})
	wantCode(t, err, payments.ENotFound)
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1, q2 := h.qr(inv.ID), h.qr(inv.ID)
	got, err := h.svc.Cancel(h.ctx, inv.ID, 42)
	if err != nil || got.Status != payments.InvoiceCancelled {
		t.Fatalf("Cancel: %+v, %v", got, err)
	}
	h.wantQR(q1.ID, payments.QRCancelled)
	h.wantQR(q2.ID, payments.QRCancelled)
	// One event per QR, so each message is shown and retried on its own.
	h.wantKinds(inv.ID, payments.EventCancelled, payments.EventCancelled)
	for i, e := range h.events() {
		if e.Detail != "cancelled by 42" || e.QRID != []int64{q1.ID, q2.ID}[i] {
			t.Errorf("event %d: QR %d, detail %q", i, e.QRID, e.Detail)
		}
	}
	if _, err := h.svc.Cancel(h.ctx, inv.ID, 42); err != nil {
		t.Fatalf("cancelling again: %v", err)
	}
	h.wantKinds(inv.ID, payments.EventCancelled, payments.EventCancelled)

	h.sim.ResetCalls()
	h.ticksUntil(q1.ExpiresAt.Add(grace))
	if n := h.checks(); n != 0 {
		t.Errorf("%d checks of cancelled QRs", n)
	}

	_, err = h.svc.Cancel(h.ctx, 999, 1)
	wantCode(t, err, payments.ENotFound)
}

func TestCancelPaid(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.pay(q, sim.Payment{}) // paid, and the reconciler has not seen it yet
	_, err := h.svc.Cancel(h.ctx, inv.ID, 1)
	wantCode(t, err, payments.EConflict)
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	h.wantKinds(inv.ID, payments.EventSettled)
	_, err = h.svc.Cancel(h.ctx, inv.ID, 1)
	wantCode(t, err, payments.EConflict)
}

func TestPaymentOnCancelledInvoice(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.setFault(epMD5, sim.Fault{Status: 503, Count: 1}) // Cancel's last look fails
	if _, err := h.svc.Cancel(h.ctx, inv.ID, 1); err != nil {
		t.Fatal(err)
	}
	h.pay(q, sim.Payment{})
	got, err := h.svc.CheckQR(h.ctx, q.ID)
	if err != nil || got.Status != payments.QRReview {
		t.Fatalf("CheckQR: %+v, %v", got, err)
	}
	h.wantInvoice(inv.ID, payments.InvoiceReview)
	if ps := h.payments(inv.ID); len(ps) != 1 || !strings.Contains(ps[0].Reason, "was cancelled") {
		t.Fatalf("payments %+v, want one in review: invoice cancelled", ps)
	}
	h.wantKinds(inv.ID, payments.EventCancelled, payments.EventReview)
}

// TestCancelDuringOutage: Bakong cannot answer Cancel's last look. The QRs
// it could not see stay polled, so a payment made before the cancel is
// found once Bakong answers, and one never made ends silently.
func TestCancelDuringOutage(t *testing.T) {
	for _, paid := range []bool{false, true} {
		t.Run(map[bool]string{false: "unpaid", true: "paid"}[paid], func(t *testing.T) {
			h := newHarness(t)
			inv := h.invoice(usd5)
			q := h.qr(inv.ID)
			if paid {
				h.pay(q, sim.Payment{})
			}
			h.setFault("*", sim.Fault{Status: http.StatusServiceUnavailable})
			if got, err := h.svc.Cancel(h.ctx, inv.ID, 1); err != nil || got.Status != payments.InvoiceCancelled {
				t.Fatalf("Cancel: %+v, %v", got, err)
			}
			h.wantQR(q.ID, payments.QRPending)
			h.sim.ClearFaults()
			h.clk.Advance(interval)
			h.tick()
			if !paid {
				h.wantQR(q.ID, payments.QRPending)
				h.ticksUntil(q.ExpiresAt.Add(grace))
				h.wantQR(q.ID, payments.QRExpired)
				h.wantInvoice(inv.ID, payments.InvoiceCancelled)
				h.wantKinds(inv.ID, payments.EventCancelled)
				return
			}
			h.wantQR(q.ID, payments.QRReview)
			h.wantInvoice(inv.ID, payments.InvoiceReview)
			if ps := h.payments(inv.ID); len(ps) != 1 || ps[0].Status != payments.PaymentReview || !strings.Contains(ps[0].Reason, "was cancelled") {
				t.Fatalf("payments %+v, want one in review: invoice cancelled", ps)
			}
			h.wantKinds(inv.ID, payments.EventCancelled, payments.EventReview)
		})
	}
}

func TestCheckQR(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)

	got, err := h.svc.CheckQR(h.ctx, q.ID)
	if err != nil || got.Status != payments.QRPending || !got.NextCheckAt.Equal(q.NextCheckAt) || !got.LastCheckedAt.Equal(h.clk.Now()) {
		t.Fatalf("CheckQR before payment: %+v, %v", got, err)
	}

	h.setFault(epMD5, sim.Fault{Status: 500, Count: 1})
	_, err = h.svc.CheckQR(h.ctx, q.ID)
	wantCode(t, err, payments.EUnavailable)
	if got := h.getQR(q.ID); got.CheckFailures != 1 || got.LastError == "" {
		t.Fatalf("after a failed check: %+v", got)
	}

	tx := h.pay(q, sim.Payment{})
	got, err = h.svc.CheckQR(h.ctx, q.ID)
	if err != nil || got.Status != payments.QRPaid {
		t.Fatalf("CheckQR after payment: %+v, %v", got, err)
	}
	if ps := h.payments(inv.ID); len(ps) != 1 || ps[0].Source != payments.SourceCheck || ps[0].Hash != tx.Hash {
		t.Fatalf("payments %+v", ps)
	}

	_, err = h.svc.CheckQR(h.ctx, 999)
	wantCode(t, err, payments.ENotFound)
}

func TestCheckQRExpiry(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.clk.Set(q.ExpiresAt.Add(grace - time.Second))
	if got, err := h.svc.CheckQR(h.ctx, q.ID); err != nil || got.Status != payments.QRPending {
		t.Fatalf("within the grace: %+v, %v", got, err)
	}
	h.clk.Set(q.ExpiresAt.Add(grace))
	if got, err := h.svc.CheckQR(h.ctx, q.ID); err != nil || got.Status != payments.QRExpired {
		t.Fatalf("after the grace: %+v, %v", got, err)
	}
	h.wantKinds(inv.ID, payments.EventExpired)

	// Bakong acknowledged an on-time payment after our final check: a later check still settles.
	h.pay(q, sim.Payment{CreatedAt: q.ExpiresAt.Add(-time.Second)})
	if got, err := h.svc.CheckQR(h.ctx, q.ID); err != nil || got.Status != payments.QRPaid {
		t.Fatalf("expired QR found paid in time: %+v, %v", got, err)
	}
	h.wantInvoice(inv.ID, payments.InvoicePaid)
}

func TestVerifyShortHash(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1 := h.qr(inv.ID)
	q2 := h.qr(inv.ID)
	// The customer paid by typing the amount, not by scanning: no md5 finds it.
	tx, err := h.sim.PayMD5(strings.Repeat("ab", 16), sim.Payment{Amount: 500, Currency: "USD", ToAccount: shop})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.svc.VerifyShortHash(h.ctx, inv.ID, " "+strings.ToUpper(tx.Hash[:8])+" ")
	if err != nil {
		t.Fatalf("VerifyShortHash: %v", err)
	}
	if p.Status != payments.PaymentSettled || p.Source != payments.SourceVerify || p.QRID != q2.ID || p.MD5 != "" {
		t.Fatalf("payment %+v, want settled by verify on the latest QR", p)
	}
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	h.wantQR(q2.ID, payments.QRPaid)
	h.wantQR(q1.ID, payments.QRPending)
	h.wantKinds(inv.ID, payments.EventSettled)

	again, err := h.svc.VerifyShortHash(h.ctx, inv.ID, tx.Hash[:8])
	if err != nil || again.ID != p.ID {
		t.Fatalf("verifying again: %+v, %v; want the same payment", again, err)
	}
	other := h.invoice(usd5)
	_, err = h.svc.VerifyShortHash(h.ctx, other.ID, tx.Hash[:8])
	wantCode(t, err, payments.EConflict)
	if !errors.Is(err, payments.ErrRecordedElsewhere) || errors.Is(err, payments.ErrPaymentFailed) {
		t.Errorf("verifying for another invoice: %v, want ErrRecordedElsewhere", err)
	}

	for _, bad := range []string{"", "1234567", "123456789", "zzzzzzzz"} {
		_, err := h.svc.VerifyShortHash(h.ctx, other.ID, bad)
		wantCode(t, err, payments.EInvalid)
	}
	_, err = h.svc.VerifyShortHash(h.ctx, other.ID, "00000000")
	wantCode(t, err, payments.ENotFound)
	_, err = h.svc.VerifyShortHash(h.ctx, 999, "00000000")
	wantCode(t, err, payments.ENotFound)

	h.setFault("check_transaction_by_short_hash", sim.Fault{ErrorCode: 3})
	_, err = h.svc.VerifyShortHash(h.ctx, other.ID, "00000000")
	wantCode(t, err, payments.EConflict)
	if !errors.Is(err, payments.ErrPaymentFailed) || errors.Is(err, payments.ErrRecordedElsewhere) {
		t.Errorf("verifying a failed transaction: %v, want ErrPaymentFailed", err)
	}
	h.wantInvoice(other.ID, payments.InvoiceOpen)
}

func TestVerifyShortHashWithoutQR(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	h.clk.Advance(time.Hour) // verify ignores QR expiry: there is none
	tx, err := h.sim.PayMD5(strings.Repeat("cd", 16), sim.Payment{Amount: 500, Currency: "USD", ToAccount: shop})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.svc.VerifyShortHash(h.ctx, inv.ID, tx.Hash[:8])
	if err != nil || p.Status != payments.PaymentSettled || p.QRID != 0 {
		t.Fatalf("VerifyShortHash: %+v, %v", p, err)
	}
	h.wantInvoice(inv.ID, payments.InvoicePaid)

	// A receipt older than the invoice cannot be for it.
	old, err := h.sim.PayMD5(strings.Repeat("ef", 16), sim.Payment{Amount: 500, Currency: "USD", ToAccount: shop, CreatedAt: h.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Minute)
	later := h.invoice(usd5)
	p, err = h.svc.VerifyShortHash(h.ctx, later.ID, old.Hash[:8])
	if err != nil || p.Status != payments.PaymentReview || !strings.Contains(p.Reason, "before the invoice was created") {
		t.Fatalf("old receipt: %+v, %v; want review", p, err)
	}
	h.wantInvoice(later.ID, payments.InvoiceReview)
}

// TestVerifiedThenPolled: /verify, unable to learn which QR was paid,
// records a receipt against the invoice's newest QR; when the poll then finds that transaction by the md5 of a QR
// still pending, the QR closes as the payment stands, with no second event,
// and is asked about no more.
func TestVerifiedThenPolled(t *testing.T) {
	tests := []struct {
		name    string
		qrs     int         // QRs issued; the customer pays the first
		pay     sim.Payment // how
		invoice payments.InvoiceStatus
		want    payments.QRStatus // the paid QR, after the poll
		event   payments.EventKind
	}{
		{"settled on a newer QR", 2, sim.Payment{}, payments.InvoicePaid, payments.QRPaid, payments.EventSettled},
		{"in review on the same QR", 1, sim.Payment{ToAccount: "other@devb"}, payments.InvoiceReview, payments.QRReview, payments.EventReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inv := h.invoice(usd5)
			var qrs []*payments.QR
			for range tt.qrs {
				qrs = append(qrs, h.qr(inv.ID))
			}
			q := qrs[0]
			tx := h.pay(q, tt.pay)
			// Bakong cannot say which QR was paid (it would settle that one at once).
			h.setFault(epMD5List, sim.Fault{Status: http.StatusServiceUnavailable, Count: 1})
			p, err := h.svc.VerifyShortHash(h.ctx, inv.ID, tx.Hash[:8])
			if err != nil || p.QRID != qrs[len(qrs)-1].ID {
				t.Fatalf("VerifyShortHash: %+v, %v; want it on the newest QR", p, err)
			}
			h.wantQR(q.ID, payments.QRPending)

			h.clk.Advance(interval)
			h.tick()
			h.wantQR(q.ID, tt.want)
			h.wantInvoice(inv.ID, tt.invoice)
			if ps := h.payments(inv.ID); len(ps) != 1 || ps[0].ID != p.ID {
				t.Fatalf("payments %+v, want only the verified one", ps)
			}
			h.wantKinds(inv.ID, tt.event)

			h.sim.ResetCalls()
			h.ticksUntil(q.ExpiresAt.Add(2 * grace))
			if n := h.checks(); n != 0 {
				t.Errorf("%d checks after the QR closed, want none", n)
			}
		})
	}
}

func TestReviewThenCorrectPayment(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1, q2 := h.qr(inv.ID), h.qr(inv.ID)
	h.pay(q1, sim.Payment{Amount: 100})
	h.tick()
	h.wantInvoice(inv.ID, payments.InvoiceReview)
	h.pay(q2, sim.Payment{})
	h.clk.Advance(interval)
	h.tick()
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled)
}

func TestApplyTwice(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	tx := h.pay(q, sim.Payment{})
	p1, err := h.svc.Apply(h.ctx, q, tx, payments.SourcePoll)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := h.svc.Apply(h.ctx, q, tx, payments.SourceCheck)
	if err != nil || p2.ID != p1.ID || p2.Source != payments.SourcePoll {
		t.Fatalf("second Apply: %+v, %v; want the first payment", p2, err)
	}
	h.wantKinds(inv.ID, payments.EventSettled)

	_, err = h.svc.Apply(h.ctx, nil, tx, payments.SourcePoll)
	wantCode(t, err, payments.EInvalid)
	_, err = h.svc.Apply(h.ctx, q, &bakong.Transaction{}, payments.SourcePoll)
	wantCode(t, err, payments.EInvalid)
}

func TestOutbox(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	select {
	case <-h.svc.Wake():
		t.Fatal("Wake signalled before any event")
	default:
	}
	h.pay(q, sim.Payment{})
	h.tick()
	select {
	case <-h.svc.Wake():
	default:
		t.Fatal("no Wake signal after a settlement")
	}

	evs, err := h.svc.Events(h.ctx, 10)
	if err != nil || len(evs) != 1 || evs[0].Kind != payments.EventSettled || evs[0].InvoiceID != inv.ID || evs[0].QRID != q.ID || evs[0].PaymentID == 0 {
		t.Fatalf("Events: %+v, %v", evs, err)
	}
	if err := h.svc.Retry(h.ctx, evs[0].ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if evs, _ := h.svc.Events(h.ctx, 10); len(evs) != 0 {
		t.Fatalf("a delayed event is due: %+v", evs)
	}
	h.clk.Advance(time.Minute)
	evs, _ = h.svc.Events(h.ctx, 10)
	if len(evs) != 1 || evs[0].Attempts != 1 {
		t.Fatalf("after the delay: %+v, want the event with 1 attempt", evs)
	}
	if err := h.svc.Delivered(h.ctx, evs[0].ID); err != nil {
		t.Fatal(err)
	}
	if evs, _ := h.svc.Events(h.ctx, 10); len(evs) != 0 {
		t.Fatalf("a delivered event is still pending: %+v", evs)
	}
}

// TestConsumeEvents: a subscriber woken by Wake gets every event, and one
// whose delivery failed again once its retry delay has passed.
func TestConsumeEvents(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(h.ctx)
	got := make(chan payments.Event, 10)
	next := func() payments.Event {
		t.Helper()
		select {
		case e := <-got:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event delivered within 5s")
			return payments.Event{}
		}
	}
	fails := 1
	done := make(chan error, 1)
	go func() {
		done <- consume(ctx, h.svc, func(_ context.Context, e payments.Event) error {
			if e.Kind == payments.EventExpired && fails > 0 {
				fails--
				got <- payments.Event{Kind: "failed delivery"}
				return context.DeadlineExceeded
			}
			got <- e
			return nil
		})
	}()
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.pay(q, sim.Payment{})
	h.tick() // Wake tells the consumer: the hour-long poll never elapses
	if e := next(); e.Kind != payments.EventSettled {
		t.Fatalf("first event %s, want settled", e.Kind)
	}

	other := h.qr(h.invoice(usd5).ID)
	h.clk.Set(other.ExpiresAt.Add(grace))
	h.tick()
	if e := next(); e.Kind != "failed delivery" {
		t.Fatalf("got %s, want the failed delivery", e.Kind)
	}
	waitFor(t, func() bool { // the consumer records the retry after the handler returns
		evs := h.events()
		return len(evs) == 1 && evs[0].Attempts == 1
	})
	h.clk.Advance(payments.RetryDelay(0))
	// Any new event wakes the consumer, which also finds the retry due.
	if _, err := h.svc.Cancel(h.ctx, h.invoice(usd5).ID, 1); err != nil {
		t.Fatal(err)
	}
	kinds := map[payments.EventKind]bool{}
	for range 2 {
		kinds[next().Kind] = true
	}
	if !kinds[payments.EventExpired] || !kinds[payments.EventCancelled] {
		t.Fatalf("after the retry delay: %v, want expired and cancelled", kinds)
	}
	waitFor(t, func() bool { return len(h.events()) == 0 }) // marked delivered after the handler returned
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("consume: %v", err)
	}
}

// consume is the loop of the outbox's doc comment, as a subscriber writes
// it: deliver what Events returns, Retry after RetryDelay what fails,
// and wait for Wake (only: the test's clock is fake) until ctx ends.
func consume(ctx context.Context, svc *payments.Service, handle func(context.Context, payments.Event) error) error {
	for {
		evs, err := svc.Events(ctx, 100)
		if err != nil && ctx.Err() == nil {
			return err
		}
		for _, e := range evs {
			if err := handle(ctx, e); err != nil {
				err = svc.Retry(ctx, e.ID, payments.RetryDelay(e.Attempts))
			} else {
				err = svc.Delivered(ctx, e.ID)
			}
			if err != nil && ctx.Err() == nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-svc.Wake():
		}
	}
}

// TestCallLog: every exchange is logged with what it was about, and one
// about a single md5 under its QR.
func TestCallLog(t *testing.T) {
	h := newHarness(t)
	q1 := h.qr(h.invoice(usd5).ID) // its deeplink
	h.tick()                       // one QR due: a single md5 check
	q2 := h.qr(h.invoice(usd5).ID)
	h.clk.Advance(interval)
	h.tick() // two due: an md5 list
	h.callLog.Flush(h.ctx)
	type call struct {
		endpoint, key string
		qr            int64
	}
	tests := []struct {
		qr   int64
		want []call // newest first
	}{
		{0, []call{{epMD5List, "2 md5s", 0}, {"generate_deeplink_by_qr", q2.MD5, q2.ID}, {epMD5, q1.MD5, q1.ID}, {"generate_deeplink_by_qr", q1.MD5, q1.ID}}},
		{q1.ID, []call{{epMD5, q1.MD5, q1.ID}, {"generate_deeplink_by_qr", q1.MD5, q1.ID}}},
		{q2.ID, []call{{"generate_deeplink_by_qr", q2.MD5, q2.ID}}},
	}
	for _, tt := range tests {
		calls, err := h.db.ListCalls(h.ctx, tt.qr, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []call
		for _, c := range calls {
			got = append(got, call{c.Endpoint, c.Key, c.QRID})
			if c.RequestID == "" || c.HTTPStatus != 200 {
				t.Errorf("call %+v", c)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("calls about QR %d: %+v, want %+v", tt.qr, got, tt.want)
		}
	}
}
