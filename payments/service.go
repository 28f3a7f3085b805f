package payments

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// Bakong is what the domain needs of the Open API. *bakong.Client implements
// it; tests use the simulator behind a real client.
type Bakong interface {
	CheckMD5(ctx context.Context, md5 string) (*bakong.Transaction, error)
	CheckMD5List(ctx context.Context, md5s []string) ([]bakong.Result, error)
	CheckHash(ctx context.Context, hash string) (*bakong.Transaction, error)
	CheckShortHash(ctx context.Context, hash string, amount int64, currency string) (*bakong.Transaction, error)
	Deeplink(ctx context.Context, qr string) (string, error)
}

// Merchant is the receiving side written into every QR.
type Merchant struct {
	AccountID     string // name@bank; payments must arrive here
	Name          string // tag 59, at most 25
	City          string // tag 60
	MerchantID    string // with AcquiringBank: a merchant (tag 30) QR
	AcquiringBank string
}

// Config tunes the Service.
type Config struct {
	Merchant Merchant
	QRTTL    time.Duration // lifetime of each QR; never more than MaxQRTTL
	Grace    time.Duration // final check this long after expiry; default 30s
	Sandbox  bool          // QRs are marked sandbox: no real money
}

// MaxQRTTL is the longest a dynamic QR may live (NBC's integration guide).
const MaxQRTTL = 10 * time.Minute

// Service creates invoices, issues and cancels their QRs and settles payments.
type Service struct {
	store Store
	api   Bakong
	clock Clock
	cfg   Config
	log   *slog.Logger
}

// NewService checks cfg and returns a Service.
func NewService(store Store, api Bakong, clock Clock, cfg Config, log *slog.Logger) (*Service, error) {
	return &Service{store: store, api: api, clock: clock, cfg: cfg, log: log}, nil
}

// NewInvoice is what CreateInvoice needs.
type NewInvoice struct {
	Kind        InvoiceKind
	Amount      Money
	Description string
	CreatedBy   int64
	ChatID      int64
}

// QRRequest asks for a QR for an open invoice, to be shown in ChatID to UserID.
type QRRequest struct {
	InvoiceID int64
	ChatID    int64
	UserID    int64
}

var errTODO = errors.New("not implemented")

// CreateInvoice validates and stores a new open invoice.
func (s *Service) CreateInvoice(ctx context.Context, n NewInvoice) (*Invoice, error) {
	return nil, errTODO
}

// IssueQR generates a fresh dynamic KHQR for an open invoice, stores it as
// pending and asks Bakong for its deeplink (optional: failure leaves it empty).
func (s *Service) IssueQR(ctx context.Context, r QRRequest) (*QR, error) {
	return nil, errTODO
}

// Cancel cancels an open invoice and its pending QRs.
func (s *Service) Cancel(ctx context.Context, invoiceID, by int64) (*Invoice, error) {
	return nil, errTODO
}

// CheckQR asks Bakong about one QR now and applies the answer.
func (s *Service) CheckQR(ctx context.Context, qrID int64) (*QR, error) {
	return nil, errTODO
}

// VerifyShortHash settles an invoice from a customer's receipt.
func (s *Service) VerifyShortHash(ctx context.Context, invoiceID int64, shortHash string) (*Payment, error) {
	return nil, errTODO
}

// Apply records a transaction Bakong found for q and settles, reviews or flags.
func (s *Service) Apply(ctx context.Context, q *QR, tx *bakong.Transaction, source string) (*Payment, error) {
	return nil, errTODO
}
