package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// errRace aborts a transaction whose reads another writer made stale; the
// caller runs it again on fresh reads.
var errRace = errors.New("state changed concurrently")

// maxRaceRetries bounds how often a transaction is re-run after errRace.
const maxRaceRetries = 3

// raceTx runs fn in one database transaction, and again on fresh reads
// when it fails with errRace, at most maxRaceRetries more times.
func (s *Service) raceTx(ctx context.Context, fn func(st Store) error) error {
	for try := 0; ; try++ {
		err := s.store.WithTx(ctx, fn)
		if !errors.Is(err, errRace) || try >= maxRaceRetries {
			return err
		}
	}
}

// Apply records a transaction Bakong found for q and settles, reviews or flags
// it. This is the one place where an invoice becomes paid:
//
//   - The payment's hash is unique: applying a transaction already recorded
//     returns the stored payment and changes nothing, except that a pending
//     q leaves pending (see closeFound). When that payment is recorded for
//     another invoice (by /verify), q goes to review and the admins are told
//     which invoice holds it (closeElsewhere); the payment returned is then
//     that invoice's.
//   - A payment on time (createdDateMs at or before the QR's expiry) to the
//     QR's receiver with the invoice's amount and currency settles an open
//     invoice (or one in review, which a correct payment resolves):
//     PaymentSettled, invoice and QR paid, EventSettled.
//   - If the invoice is already paid, the payment is a PaymentDuplicate, the
//     QR goes to review and an EventDuplicate flags it: never lost.
//   - Otherwise (late, wrong receiver, amount or currency, or a cancelled
//     invoice) it is a PaymentReview with a Reason, the invoice and the QR go
//     to review, and an EventReview tells the admins, who then Accept or
//     Reject it (review.go).
//
// All of it happens in one transaction, and the move to paid is a conditional
// update (open or review -> paid): from two goroutines or two processes, the
// invoice settles once, and the loser's payment becomes a duplicate.
func (s *Service) Apply(ctx context.Context, q *QR, found *bakong.Transaction, source string) (*Payment, error) {
	if q == nil {
		return nil, Errorf(EInvalid, "apply payment: no QR")
	}
	return s.applyTo(ctx, q.InvoiceID, q.ID, found, source)
}

// applyTo applies the transaction found to an invoice and, when qrID is not
// 0, to that QR; see Apply.
func (s *Service) applyTo(ctx context.Context, invoiceID, qrID int64, found *bakong.Transaction, source string) (*Payment, error) {
	if found == nil || len(found.Hash) < 8 {
		return nil, Errorf(EInvalid, "apply payment: a transaction with its full hash is required")
	}
	var p *Payment
	var fresh bool
	err := s.raceTx(ctx, func(st Store) error {
		var err error
		p, fresh, err = s.applyIn(ctx, st, invoiceID, qrID, found, source)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("apply payment %s: %w", found.ShortHash(), err)
	}
	if p.InvoiceID != invoiceID { // see closeElsewhere
		s.log.Warn("payment recorded for another invoice", "invoice", invoiceID, "qr", qrID, "payment", p.ID, "held_by", p.InvoiceID)
		s.notify()
	}
	if fresh {
		s.log.Info("payment recorded", "invoice", invoiceID, "qr", qrID, "payment", p.ID,
			"short_hash", p.ShortHash, "status", p.Status, "cause", p.Cause, "reason", p.Reason, "source", source)
		s.notify()
		s.observe(p)
	}
	return p, nil
}

// observe tells the Observer of payment p, just recorded: the time from
// the payment to now is its pay-to-settle latency when it settled.
func (s *Service) observe(p *Payment) {
	s.cfg.Observer.PaymentRecorded(p.Status, p.Amount.Currency)
	if p.Status == PaymentSettled {
		s.cfg.Observer.InvoiceSettled(p.Amount, p.Source, since(p.PaidAt, p.CreatedAt))
	}
}

// since is the time from `from` to `to`, or zero when from is unknown or later.
func since(from, to time.Time) time.Duration {
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from)
}

// applyIn is applyTo's work inside database transaction st. fresh reports
// whether it stored a new payment.
func (s *Service) applyIn(ctx context.Context, st Store, invoiceID, qrID int64, found *bakong.Transaction, source string) (p *Payment, fresh bool, err error) {
	old, err := st.PaymentByHash(ctx, found.Hash)
	switch {
	case err == nil && old.InvoiceID != invoiceID:
		if qrID != 0 && source != SourceVerify {
			return old, false, s.closeElsewhere(ctx, st, qrID, old)
		}
		return nil, false, &Error{Code: EConflict, Message: "payment " + old.ShortHash + " is already recorded for invoice " + InvoiceNumber(old.InvoiceID),
			Err: &RecordedElsewhere{InvoiceID: old.InvoiceID, PaymentID: old.ID}}
	case err == nil:
		return old, false, closeFound(ctx, st, qrID, old, source, s.clock.Now())
	case ErrorCode(err) != ENotFound:
		return nil, false, err
	}
	inv, err := st.Invoice(ctx, invoiceID)
	if err != nil {
		return nil, false, err
	}
	var q *QR
	if qrID != 0 {
		if q, err = st.QR(ctx, qrID); err != nil {
			return nil, false, err
		}
	}
	now := s.clock.Now()
	p = s.judge(inv, q, found, source, now)
	if err := st.CreatePayment(ctx, p); err != nil {
		if ErrorCode(err) == EConflict {
			return nil, false, errRace // the same hash, recorded meanwhile
		}
		return nil, false, err
	}

	ev := &Event{InvoiceID: invoiceID, QRID: qrID, PaymentID: p.ID, Detail: p.Reason, CreatedAt: now}
	qrTo, qrFrom := QRReview, []QRStatus{QRPending, QRExpired, QRCancelled}
	switch p.Status {
	case PaymentSettled:
		ok, err := st.SetInvoiceStatus(ctx, invoiceID, []InvoiceStatus{inv.Status}, InvoicePaid, p.ID, p.PaidAt)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, errRace
		}
		ev.Kind, ev.Detail = EventSettled, ""
		qrTo, qrFrom = QRPaid, []QRStatus{QRPending, QRExpired}
	case PaymentReview:
		if inv.Status != InvoiceReview {
			ok, err := st.SetInvoiceStatus(ctx, invoiceID, []InvoiceStatus{inv.Status}, InvoiceReview, 0, now)
			if err != nil {
				return nil, false, err
			}
			if !ok {
				return nil, false, errRace
			}
		}
		ev.Kind = EventReview
	case PaymentDuplicate:
		ev.Kind = EventDuplicate
	}
	// A receipt checked by /verify may not come from the QR it is recorded
	// against: only a settlement closes that QR, so it is never left unpolled.
	if q != nil && (source != SourceVerify || p.Status == PaymentSettled) {
		if _, err := st.SetQRStatus(ctx, q.ID, qrFrom, qrTo, now); err != nil {
			return nil, false, err
		}
	}
	if err := st.AddEvent(ctx, ev); err != nil {
		return nil, false, err
	}
	return p, true, nil
}

// judge makes the payment that the transaction found is for inv (and q,
// nil for a receipt with no QR), recorded at now: settled by itself, or
// why not (Status, Cause, Reason).
func (s *Service) judge(inv *Invoice, q *QR, found *bakong.Transaction, source string, now time.Time) *Payment {
	var qrID int64
	if q != nil {
		qrID = q.ID
	}
	p := &Payment{
		Hash:           found.Hash,
		ShortHash:      found.ShortHash(),
		QRID:           qrID,
		InvoiceID:      inv.ID,
		FromAccount:    found.FromAccountID,
		ToAccount:      found.ToAccountID,
		Amount:         Money{Amount: found.Amount, Currency: Currency(found.Currency)},
		Description:    found.Description,
		ExternalRef:    found.ExternalRef,
		InstructionRef: found.InstructionRef,
		PaidAt:         msTime(found.CreatedDateMs),
		AcknowledgedAt: msTime(found.AcknowledgedDateMs),
		Source:         source,
		CreatedAt:      now,
	}
	if q != nil && source != SourceVerify {
		p.MD5 = q.MD5
	}
	problems := s.mismatches(inv, q, found, source)
	switch {
	case inv.Status == InvoicePaid:
		p.Status, p.Cause = PaymentDuplicate, CauseAlreadyPaid
		p.Reason = strings.Join(append([]string{"invoice " + inv.Number + " is already paid"}, problems...), "; ")
	case inv.Status == InvoiceCancelled:
		p.Status, p.Cause = PaymentReview, CauseCancelled
		p.Reason = strings.Join(append([]string{"invoice " + inv.Number + " was cancelled"}, problems...), "; ")
	case len(problems) > 0:
		p.Status, p.Cause = PaymentReview, CauseMismatch
		p.Reason = strings.Join(problems, "; ")
	default:
		p.Status = PaymentSettled
	}
	return p
}

// closeFound closes QR qrID, still pending, whose own md5 found a payment
// already recorded: by /verify, which records a receipt against the
// invoice's newest QR and closes it only on settlement. The QR goes where a
// poll would have sent it: paid when that payment settled the invoice, else
// to review. It writes no event: the payment's own told everyone when it
// was recorded. Left pending, the QR would be found paid, and asked about,
// every cycle forever.
func closeFound(ctx context.Context, st Store, qrID int64, p *Payment, source string, at time.Time) error {
	if qrID == 0 || source == SourceVerify {
		return nil // a receipt says nothing about which QR was paid
	}
	to := QRReview
	if p.Status == PaymentSettled {
		to = QRPaid
	}
	_, err := st.SetQRStatus(ctx, qrID, []QRStatus{QRPending}, to, at)
	return err
}

// closeElsewhere makes final the answer that the transaction a pending QR's
// own md5 found is already recorded for another invoice (an admin's
// /verify put it there): the QR goes to review, so it is no longer polled
// and its message says an admin is looking, and an EventReview, whose
// payment is the one recorded elsewhere, tells the admins which invoice
// holds it; a QR already closed is left alone. Left pending, the QR would
// be found paid, and refused, every cycle forever.
func (s *Service) closeElsewhere(ctx context.Context, st Store, qrID int64, old *Payment) error {
	q, err := st.QR(ctx, qrID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	ok, err := st.SetQRStatus(ctx, qrID, []QRStatus{QRPending}, QRReview, now)
	if err != nil || !ok {
		return err
	}
	return st.AddEvent(ctx, &Event{Kind: EventReview, InvoiceID: q.InvoiceID, QRID: qrID, PaymentID: old.ID, CreatedAt: now,
		Detail: fmt.Sprintf("payment %s paid QR %s, but it is already recorded for invoice %s", old.ShortHash, q.BillNumber, InvoiceNumber(old.InvoiceID))})
}

// mismatches lists why the transaction found cannot settle inv by itself;
// none means it can.
func (s *Service) mismatches(inv *Invoice, q *QR, found *bakong.Transaction, source string) []string {
	var r []string
	receiver := s.cfg.Merchant.AccountID
	if q != nil {
		receiver = q.Receiver
	}
	if !strings.EqualFold(strings.TrimSpace(found.ToAccountID), receiver) {
		r = append(r, fmt.Sprintf("paid to %q, expected %s", found.ToAccountID, receiver))
	}
	paid := Money{Amount: found.Amount, Currency: Currency(found.Currency)}
	switch {
	case paid.Currency != inv.Amount.Currency:
		r = append(r, fmt.Sprintf("currency %q, expected %s", found.Currency, inv.Amount.Currency))
	case paid.Amount != inv.Amount.Amount:
		r = append(r, fmt.Sprintf("amount %s, expected %s", paid, inv.Amount))
	}
	at := msTime(found.CreatedDateMs)
	switch {
	case found.CreatedDateMs <= 0:
		r = append(r, "Bakong gave no payment time")
	case source == SourceVerify || q == nil:
		if found.CreatedDateMs < inv.CreatedAt.UnixMilli() {
			r = append(r, fmt.Sprintf("paid at %s, before the invoice was created at %s", stamp(at), stamp(inv.CreatedAt)))
		}
	case found.CreatedDateMs > q.ExpiresAt.UnixMilli():
		r = append(r, fmt.Sprintf("paid at %s, after the QR expired at %s", stamp(at), stamp(q.ExpiresAt)))
	}
	return r
}

// closeQR moves a pending QR to `to` (expired or failed). The event `kind` is
// written only when the invoice is still open: a sibling QR of a paid,
// reviewed or cancelled invoice closes silently, so customers never see
// "expired" or "failed" for an invoice that is settled or in an admin's hands.
func (s *Service) closeQR(ctx context.Context, q *QR, to QRStatus, kind EventKind, at time.Time) error {
	var told bool
	err := s.store.WithTx(ctx, func(st Store) error {
		ok, err := st.SetQRStatus(ctx, q.ID, []QRStatus{QRPending}, to, at)
		if err != nil || !ok {
			return err
		}
		if err := st.SetQRCheck(ctx, q.ID, at, at, 0, ""); err != nil {
			return err
		}
		inv, err := st.Invoice(ctx, q.InvoiceID)
		if err != nil || inv.Status != InvoiceOpen {
			return err
		}
		told = true
		return st.AddEvent(ctx, &Event{Kind: kind, InvoiceID: q.InvoiceID, QRID: q.ID, CreatedAt: at})
	})
	if err != nil {
		return fmt.Errorf("mark QR %d %s: %w", q.ID, to, err)
	}
	if told {
		s.notify()
	}
	return nil
}

// msTime converts epoch milliseconds to a time; 0 is the zero time.
func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000Z") }
