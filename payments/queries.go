package payments

import (
	"context"
	"fmt"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// The reads and small writes a front end (the Telegram bot) needs besides the
// use cases of service.go, review.go and outbox.go. They go through the
// Service so that a front end has one way into the domain and never holds
// the Store or the Bakong client itself.

// Invoice returns invoice id.
func (s *Service) Invoice(ctx context.Context, id int64) (*Invoice, error) {
	return s.store.Invoice(ctx, id)
}

// InvoiceByToken returns the invoice a share link's token opens.
func (s *Service) InvoiceByToken(ctx context.Context, token string) (*Invoice, error) {
	return s.store.InvoiceByToken(ctx, token)
}

// Invoices returns the invoices f selects, newest first.
func (s *Service) Invoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error) {
	return s.store.ListInvoices(ctx, f)
}

// QR returns QR id.
func (s *Service) QR(ctx context.Context, id int64) (*QR, error) {
	return s.store.QR(ctx, id)
}

// QRByMD5 returns the QR whose payload has that md5.
func (s *Service) QRByMD5(ctx context.Context, md5 string) (*QR, error) {
	return s.store.QRByMD5(ctx, md5)
}

// QRs returns the QRs f selects, newest first.
func (s *Service) QRs(ctx context.Context, f QRFilter) ([]QR, error) {
	return s.store.ListQRs(ctx, f)
}

// LatestQR returns the newest QR of an invoice, whatever its status; ENotFound
// when the invoice has none.
func (s *Service) LatestQR(ctx context.Context, invoiceID int64) (*QR, error) {
	qrs, err := s.store.ListQRs(ctx, QRFilter{InvoiceID: invoiceID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("latest QR of invoice %d: %w", invoiceID, err)
	}
	if len(qrs) == 0 {
		return nil, Errorf(ENotFound, "invoice %s has no QR", InvoiceNumber(invoiceID))
	}
	return &qrs[0], nil
}

// Payment returns payment id.
func (s *Service) Payment(ctx context.Context, id int64) (*Payment, error) {
	return s.store.Payment(ctx, id)
}

// Payments returns the payments f selects, newest first.
func (s *Service) Payments(ctx context.Context, f PaymentFilter) ([]Payment, error) {
	return s.store.ListPayments(ctx, f)
}

// LinkMessage records that message messageID in q's chat shows q, so that
// later changes of q edit that message.
func (s *Service) LinkMessage(ctx context.Context, q *QR, messageID int) error {
	err := s.store.LinkMessage(ctx, Message{
		ChatID: q.ChatID, MessageID: messageID, QRID: q.ID, InvoiceID: q.InvoiceID, CreatedAt: s.clock.Now(),
	})
	if err != nil {
		return fmt.Errorf("link message %d to qr %d: %w", messageID, q.ID, err)
	}
	return nil
}

// MessageOf returns the message that shows QR qrID; ENotFound when none does.
func (s *Service) MessageOf(ctx context.Context, qrID int64) (*Message, error) {
	return s.store.MessageByQR(ctx, qrID)
}

// User returns a user; ENotFound when they never chose anything.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	return s.store.User(ctx, id)
}

// SetLanguage records the language user id chose, creating the user if need be.
func (s *Service) SetLanguage(ctx context.Context, id int64, lang string) error {
	u, err := s.store.User(ctx, id)
	switch {
	case ErrorCode(err) == ENotFound:
		u = &User{ID: id}
	case err != nil:
		return fmt.Errorf("set language of user %d: %w", id, err)
	}
	u.Language = lang
	return s.store.SaveUser(ctx, u)
}

// Setting returns the value stored under key, "" when unset.
func (s *Service) Setting(ctx context.Context, key string) (string, error) {
	return s.store.Setting(ctx, key)
}

// SetSetting stores value under key.
func (s *Service) SetSetting(ctx context.Context, key, value string) error {
	return s.store.SetSetting(ctx, key, value)
}

// Ping reports whether the database answers, for health checks.
func (s *Service) Ping(ctx context.Context) error {
	_, err := s.store.Setting(ctx, "health")
	return err
}

// Answer is one Open API endpoint's answer: a transaction, or why there is none.
type Answer struct {
	Tx  *bakong.Transaction
	Err error // bakong.ErrNotFound, bakong.ErrFailed, or a failure to ask
}

// Inspection is what Bakong answers, asked directly, about an md5 and a
// full hash; an answer is nil when that endpoint was not asked.
type Inspection struct {
	MD5, Hash *Answer
}

// Inspect asks Bakong about md5 (when not "") and then about hash, or, when
// hash is "", about the hash of the transaction md5 found. It changes
// nothing: it is for people who want the raw answers (/check).
func (s *Service) Inspect(ctx context.Context, md5, hash string) Inspection {
	var in Inspection
	if md5 != "" {
		tx, err := ask(ctx, s, mayWait, func(ctx context.Context) (*bakong.Transaction, error) { return s.api.CheckMD5(ctx, md5) })
		in.MD5 = &Answer{tx, err}
		if tx != nil && hash == "" {
			hash = tx.Hash
		}
	}
	if hash != "" {
		tx, err := ask(ctx, s, mayWait, func(ctx context.Context) (*bakong.Transaction, error) { return s.api.CheckHash(ctx, hash) })
		in.Hash = &Answer{tx, err}
	}
	return in
}
