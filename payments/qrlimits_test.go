package payments_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

// countingStore counts the QR rows ListQRs returns, inside transactions too.
type countingStore struct {
	payments.Store
	rows *int
}

func (c countingStore) WithTx(ctx context.Context, fn func(payments.Store) error) error {
	return c.Store.WithTx(ctx, func(tx payments.Store) error { return fn(countingStore{tx, c.rows}) })
}

func (c countingStore) ListQRs(ctx context.Context, f payments.QRFilter) ([]payments.QR, error) {
	qrs, err := c.Store.ListQRs(ctx, f)
	*c.rows += len(qrs)
	return qrs, err
}

// TestIssueQRReadsFewRows: issuing the 301st QR of an invoice reads a few
// QR rows, not the 300 before it (its write transaction used to read them
// all: 1.5 ms for the first QR, 18.7 ms for the 2000th).
func TestIssueQRReadsFewRows(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	for range 300 {
		q := h.qr(inv.ID)
		if _, err := h.db.SetQRStatus(h.ctx, q.ID, []payments.QRStatus{payments.QRPending}, payments.QRExpired, h.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var rows int
	cfg := h.cfg
	cfg.MaxLiveQRs, cfg.MaxQRsPerHour = 0, 0 // the defaults: their counts are reads too
	svc, err := payments.NewService(countingStore{h.db, &rows}, h.api, h.now, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := svc.IssueQR(h.ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: 10, UserID: 1, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the 301st QR read %d QR rows", rows)
	if q.BillNumber != inv.Number+"-301" {
		t.Errorf("bill number %s, want %s-301", q.BillNumber, inv.Number)
	}
	if rows > 3 {
		t.Errorf("IssueQR read %d QR rows, want at most 3", rows)
	}
}

// TestQRLimits: a user's live QR is reused; an invoice has at most
// MaxLiveQRs pending QRs; a user who is not an admin gets at most
// MaxQRsPerHour QRs an hour.
func TestQRLimits(t *testing.T) {
	h := newHarness(t)
	cfg := h.cfg
	cfg.MaxLiveQRs, cfg.MaxQRsPerHour = 3, 4
	svc, err := payments.NewService(h.db, h.api, h.now, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := h.invoice(usd5)
	ask := func(inv *payments.Invoice, user int64, admin bool) (*payments.QR, bool, error) {
		return svc.QRFor(h.ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: user, UserID: user, Admin: admin})
	}
	first, reused, err := ask(inv, 201, false)
	if err != nil || reused {
		t.Fatalf("first QR: reused %v, %v", reused, err)
	}
	for range 5 {
		q, reused, err := ask(inv, 201, false)
		if err != nil || !reused || q.ID != first.ID {
			t.Fatalf("opened again: QR %v (first %d), reused %v, %v", q, first.ID, reused, err)
		}
	}
	var others []*payments.QR
	for _, u := range []int64{202, 203} {
		q, _, err := ask(inv, u, false)
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, q)
	}
	if _, _, err := ask(inv, 204, true); !errors.Is(err, payments.ErrLiveQRLimit) || payments.ErrorCode(err) != payments.EConflict {
		t.Fatalf("a 4th live QR: %v, want ErrLiveQRLimit", err)
	}
	for _, q := range others {
		h.db.SetQRStatus(h.ctx, q.ID, []payments.QRStatus{payments.QRPending}, payments.QRFailed, h.clk.Now())
	}

	// A QR about to expire is replaced, and replacements count per hour.
	h.clk.Advance(ttl - minute/2)
	for i := range 3 {
		q, reused, err := ask(inv, 201, false)
		if err != nil || reused {
			t.Fatalf("replacement %d: reused %v, %v", i, reused, err)
		}
		h.db.SetQRStatus(h.ctx, q.ID, []payments.QRStatus{payments.QRPending}, payments.QRFailed, h.clk.Now())
	}
	if _, _, err := ask(h.invoice(usd5), 201, false); !errors.Is(err, payments.ErrHourlyQRLimit) {
		t.Fatalf("a 5th QR in an hour: %v, want ErrHourlyQRLimit", err)
	}
	if _, _, err := ask(h.invoice(usd5), 201, true); err != nil {
		t.Fatalf("an admin is not capped per hour: %v", err)
	}
	h.clk.Advance(time.Hour + time.Second)
	if _, _, err := ask(h.invoice(usd5), 201, false); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

const minute = time.Minute
