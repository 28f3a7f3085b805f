package payments

import (
	"context"
	"fmt"
	"time"
)

// Accept settles an invoice with a payment in review, on an admin's word
// (by is the admin, for the log and the payment's Reason). In one
// transaction the payment becomes PaymentSettled, its invoice (in review or
// open) becomes paid with it, its QR paid, and an EventSettled is written,
// so the QR message becomes the receipt. Both moves are conditional updates:
// two admins accepting at once settle the invoice once, and the second gets
// the paid invoice back, as does accepting a payment already accepted.
//
// A payment cannot be accepted (EConflict) when its invoice is already paid
// by another payment or was cancelled, or when it was rejected or is a
// duplicate: the admin rejects it and refunds the payer instead.
func (s *Service) Accept(ctx context.Context, paymentID, by int64) (*Invoice, error) {
	return s.resolve(ctx, "accept", paymentID, by, func(st Store, p *Payment, inv *Invoice, now time.Time) (bool, error) {
		switch p.Status {
		case PaymentSettled:
			return false, nil
		case PaymentRejected:
			return false, Errorf(EConflict, "payment %s was rejected: it can no longer settle invoice %s", p.ShortHash, inv.Number)
		case PaymentDuplicate:
			return false, Errorf(EConflict, "payment %s arrived after invoice %s was paid: refund it to the payer", p.ShortHash, inv.Number)
		}
		switch inv.Status {
		case InvoicePaid:
			with := ""
			if paid, err := st.Payment(ctx, inv.PaymentID); err == nil {
				with = " by transaction " + paid.ShortHash
			}
			return false, Errorf(EConflict, "invoice %s is already paid%s: payment %s cannot settle it again; reject it and refund the payer", inv.Number, with, p.ShortHash)
		case InvoiceCancelled:
			return false, Errorf(EConflict, "invoice %s was cancelled: payment %s cannot settle it; reject it and refund the payer", inv.Number, p.ShortHash)
		}
		note := fmt.Sprintf("accepted by %d", by)
		ok, err := st.SetPaymentStatus(ctx, p.ID, []PaymentStatus{PaymentReview}, PaymentSettled, note, now)
		if err != nil || !ok {
			return false, orRace(err)
		}
		paidAt := p.PaidAt
		if paidAt.IsZero() {
			paidAt = now
		}
		ok, err = st.SetInvoiceStatus(ctx, inv.ID, []InvoiceStatus{InvoiceReview, InvoiceOpen}, InvoicePaid, p.ID, paidAt)
		if err != nil || !ok {
			return false, orRace(err)
		}
		if p.QRID != 0 {
			if _, err := st.SetQRStatus(ctx, p.QRID, []QRStatus{QRReview, QRPending, QRExpired}, QRPaid, now); err != nil {
				return false, err
			}
		}
		return true, st.AddEvent(ctx, &Event{Kind: EventSettled, InvoiceID: inv.ID, QRID: p.QRID, PaymentID: p.ID, Detail: note, CreatedAt: now})
	})
}

// Reject refuses a payment in review on an admin's word (by is the admin):
// the payment becomes PaymentRejected, and the merchant refunds it outside
// the bot. When no other payment of its invoice awaits review, the invoice
// leaves review: open again, so the customer can pay anew with New QR, or
// cancelled again if the payment arrived after it was cancelled. An
// EventRejected, in the same transaction, lets the messages show it.
//
// Rejecting a rejected payment returns its invoice unchanged; a settled or
// duplicate payment cannot be rejected (EConflict).
func (s *Service) Reject(ctx context.Context, paymentID, by int64) (*Invoice, error) {
	return s.resolve(ctx, "reject", paymentID, by, func(st Store, p *Payment, inv *Invoice, now time.Time) (bool, error) {
		switch p.Status {
		case PaymentRejected:
			return false, nil
		case PaymentSettled:
			return false, Errorf(EConflict, "payment %s settled invoice %s: it can no longer be rejected", p.ShortHash, inv.Number)
		case PaymentDuplicate:
			return false, Errorf(EConflict, "payment %s arrived after invoice %s was paid: it is not in review; refund it to the payer", p.ShortHash, inv.Number)
		}
		note := fmt.Sprintf("rejected by %d", by)
		ok, err := st.SetPaymentStatus(ctx, p.ID, []PaymentStatus{PaymentReview}, PaymentRejected, note, now)
		if err != nil || !ok {
			return false, orRace(err)
		}
		if inv.Status == InvoiceReview {
			if err := s.leaveReview(ctx, st, inv, now); err != nil {
				return false, err
			}
		}
		return true, st.AddEvent(ctx, &Event{Kind: EventRejected, InvoiceID: inv.ID, QRID: p.QRID, PaymentID: p.ID, Detail: note, CreatedAt: now})
	})
}

// leaveReview moves inv out of review once none of its payments awaits an
// admin: back to cancelled if a payment went to review because it arrived
// after a cancellation (CauseCancelled) (only Reject ever reopens an invoice, so such an
// invoice was never open since), else back to open.
func (s *Service) leaveReview(ctx context.Context, st Store, inv *Invoice, now time.Time) error {
	ps, err := st.ListPayments(ctx, PaymentFilter{InvoiceID: inv.ID, Statuses: []PaymentStatus{PaymentReview, PaymentRejected}})
	if err != nil {
		return err
	}
	to := InvoiceOpen
	for _, x := range ps {
		if x.Status == PaymentReview {
			return nil
		}
		if x.Cause == CauseCancelled {
			to = InvoiceCancelled
		}
	}
	ok, err := st.SetInvoiceStatus(ctx, inv.ID, []InvoiceStatus{InvoiceReview}, to, 0, now)
	if err != nil || !ok {
		return orRace(err)
	}
	return nil
}

// resolve runs an admin's decision on payment id in one transaction, again
// on fresh reads after errRace, and returns the invoice as it then stands.
// decide reports whether it changed anything.
func (s *Service) resolve(ctx context.Context, verb string, id, by int64, decide func(st Store, p *Payment, inv *Invoice, now time.Time) (bool, error)) (*Invoice, error) {
	var invoiceID int64
	var changed bool
	err := s.raceTx(ctx, func(st Store) error {
		p, err := st.Payment(ctx, id)
		if err != nil {
			return err
		}
		if p.InvoiceID == 0 {
			return Errorf(EConflict, "payment %s is recorded for no invoice", p.ShortHash)
		}
		inv, err := st.Invoice(ctx, p.InvoiceID)
		if err != nil {
			return err
		}
		invoiceID = inv.ID
		changed, err = decide(st, p, inv, s.clock.Now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s payment %d: %w", verb, id, err)
	}
	inv, err := s.store.Invoice(ctx, invoiceID)
	if err != nil {
		return nil, fmt.Errorf("%s payment %d: %w", verb, id, err)
	}
	if changed {
		s.log.Info("payment resolved", "action", verb, "payment", id, "by", by, "invoice", inv.Number, "invoice_status", inv.Status)
		s.notify()
		if inv.Status == InvoicePaid { // accepted
			s.cfg.Observer.InvoiceSettled(inv.Amount, SourceReview, since(inv.PaidAt, s.clock.Now()))
		}
	}
	return inv, nil
}

// orRace returns err, or errRace when a conditional update found the state
// changed since it was read (err nil).
func orRace(err error) error {
	if err != nil {
		return err
	}
	return errRace
}
