package payments_test

import (
	"sync"
	"testing"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestRequestRunAgain: a request run again with its source key (a
// Telegram update a survivor runs again after its replica died) gets the
// invoice and the QR its first run made, whatever became of them since,
// and nothing new is stored; a key that comes back on another request
// makes a new invoice, without the key.
func TestRequestRunAgain(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)))
		n := payments.NewInvoice{Kind: payments.KindPay, Amount: usd5, Description: "coffee", CreatedBy: 1, ChatID: 10, SourceKey: 501}
		r := payments.QRRequest{ChatID: 10, UserID: 1, Admin: true, SourceKey: 501}
		first, err := h.svc.CreateInvoice(h.ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		r.InvoiceID = first.ID
		q, err := h.svc.IssueQR(h.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if first.SourceKey != 501 || q.SourceKey != 501 {
			t.Fatalf("invoice key %d, QR key %d; want 501", first.SourceKey, q.SourceKey)
		}

		again, err := h.svc.CreateInvoice(h.ctx, n)
		if err != nil || again.ID != first.ID || again.Token != first.Token {
			t.Fatalf("invoice asked for again: %+v, %v; want %s", again, err, first.Number)
		}
		for _, issue := range []func() (*payments.QR, bool, error){
			func() (*payments.QR, bool, error) { q, err := h.svc.IssueQR(h.ctx, r); return q, true, err },
			func() (*payments.QR, bool, error) { return h.svc.QRFor(h.ctx, r) },
		} {
			q2, reused, err := issue()
			if err != nil || q2.ID != q.ID || q2.MD5 != q.MD5 || !reused {
				t.Fatalf("QR asked for again: %+v (reused %v), %v; want QR %d", q2, reused, err, q.ID)
			}
		}
		if qrs := h.qrsOf(first.ID); len(qrs) != 1 {
			t.Fatalf("%d QRs after the request ran again, want 1", len(qrs))
		}
		if all := h.allInvoices(); len(all) != 1 {
			t.Fatalf("%d invoices after the request ran again, want 1", len(all))
		}

		// Paid since: a redo gets the paid invoice and its paid QR, no error.
		h.pay(q, sim.Payment{})
		h.tick()
		h.wantInvoice(first.ID, payments.InvoicePaid)
		if again, err := h.svc.CreateInvoice(h.ctx, n); err != nil || again.ID != first.ID || again.Status != payments.InvoicePaid {
			t.Fatalf("paid invoice asked for again: %+v, %v", again, err)
		}
		if q2, reused, err := h.svc.QRFor(h.ctx, r); err != nil || q2.ID != q.ID || q2.Status != payments.QRPaid || !reused {
			t.Fatalf("paid QR asked for again: %+v (reused %v), %v", q2, reused, err)
		}

		// The key again on another request: no redo.
		other := n
		other.Amount = payments.Money{Amount: 700, Currency: payments.USD}
		inv, err := h.svc.CreateInvoice(h.ctx, other)
		if err != nil || inv.ID == first.ID || inv.SourceKey != 0 || inv.Amount != other.Amount {
			t.Fatalf("another request with key 501: %+v, %v; want a new invoice without key", inv, err)
		}
		r2 := r
		r2.InvoiceID = inv.ID
		q3, reused, err := h.svc.QRFor(h.ctx, r2)
		if err != nil || q3.ID == q.ID || q3.SourceKey != 0 || reused || q3.InvoiceID != inv.ID {
			t.Fatalf("QR of another request with key 501: %+v (reused %v), %v; want a new QR without key", q3, reused, err)
		}

		n.SourceKey, r.SourceKey = -1, -1
		_, err = h.svc.CreateInvoice(h.ctx, n)
		wantCode(t, err, payments.EInvalid)
		_, _, err = h.svc.QRFor(h.ctx, r)
		wantCode(t, err, payments.EInvalid)
	})
}

// TestRequestRunAgainDeeplink: a QR whose first run stored no deeplink
// (Bakong failed, or the replica died before asking) gets one when its
// request runs again.
func TestRequestRunAgainDeeplink(t *testing.T) {
	h := newHarness(t)
	h.setFault("generate_deeplink_by_qr", sim.Fault{ErrorCode: 4})
	inv := h.invoice(usd5)
	r := payments.QRRequest{InvoiceID: inv.ID, ChatID: 10, UserID: 1, SourceKey: 3}
	q, err := h.svc.IssueQR(h.ctx, r)
	if err != nil || q.Deeplink != "" {
		t.Fatalf("first run: %+v, %v; want a QR without deeplink", q, err)
	}
	h.setFault("generate_deeplink_by_qr", sim.Fault{})
	again, err := h.svc.IssueQR(h.ctx, r)
	if err != nil || again.ID != q.ID || again.Deeplink == "" || h.getQR(q.ID).Deeplink != again.Deeplink {
		t.Fatalf("run again: %+v, %v; want QR %d with its deeplink stored", again, err, q.ID)
	}
}

// TestRequestRunTwiceAtOnce: the same request run at once by two replicas
// (one whose claim lapsed while it was slow, and its successor) makes one
// invoice and one QR, which both get.
func TestRequestRunTwiceAtOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)))
		nodes := []*node{h.node, h.start()}
		const runs = 8
		var wg sync.WaitGroup
		invs, qrs := make([]int64, runs), make([]int64, runs)
		errs := make([]error, runs)
		for i := range runs {
			wg.Go(func() {
				svc := nodes[i%len(nodes)].svc
				inv, err := svc.CreateInvoice(h.ctx, payments.NewInvoice{Kind: payments.KindPay, Amount: usd5, CreatedBy: 1, ChatID: 10, SourceKey: 42})
				if err != nil {
					errs[i] = err
					return
				}
				q, _, err := svc.QRFor(h.ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: 10, UserID: 1, Admin: true, SourceKey: 42})
				if err != nil {
					errs[i] = err
					return
				}
				invs[i], qrs[i] = inv.ID, q.ID
			})
		}
		wg.Wait()
		for i := range runs {
			if errs[i] != nil {
				t.Fatalf("run %d: %v", i, errs[i])
			}
			if invs[i] != invs[0] || qrs[i] != qrs[0] {
				t.Fatalf("runs got invoices %v and QRs %v; want one of each", invs, qrs)
			}
		}
		if all := h.allInvoices(); len(all) != 1 {
			t.Fatalf("%d invoices, want 1", len(all))
		}
		if got := h.qrsOf(invs[0]); len(got) != 1 {
			t.Fatalf("%d QRs, want 1", len(got))
		}
	})
}

// qrsOf lists the QRs of invoice id.
func (h *harness) qrsOf(id int64) []payments.QR {
	h.t.Helper()
	qrs, err := h.db.ListQRs(h.ctx, payments.QRFilter{InvoiceID: id})
	if err != nil {
		h.t.Fatal(err)
	}
	return qrs
}

// allInvoices lists every invoice.
func (h *harness) allInvoices() []payments.Invoice {
	h.t.Helper()
	invs, err := h.db.ListInvoices(h.ctx, payments.InvoiceFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return invs
}
