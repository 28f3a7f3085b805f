package bot

import (
	"context"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

// Payments is everything the bot asks of the payment domain, so a reader
// sees every use case in one place. *payments.Service implements it; the
// bot never reaches the store or the Bakong client itself.
type Payments interface {
	// Invoices.
	CreateInvoice(ctx context.Context, n payments.NewInvoice) (*payments.Invoice, error)
	Invoice(ctx context.Context, id int64) (*payments.Invoice, error)
	InvoiceByToken(ctx context.Context, token string) (*payments.Invoice, error)
	Invoices(ctx context.Context, f payments.InvoiceFilter) ([]payments.Invoice, error)
	Sales(ctx context.Context, from time.Time, days int) (*payments.Sales, error)
	Cancel(ctx context.Context, invoiceID, by int64) (*payments.Invoice, error)

	// QRs and the messages that show them.
	QRFor(ctx context.Context, r payments.QRRequest) (q *payments.QR, reused bool, err error)
	QR(ctx context.Context, id int64) (*payments.QR, error)
	QRByMD5(ctx context.Context, md5 string) (*payments.QR, error)
	QRs(ctx context.Context, f payments.QRFilter) ([]payments.QR, error)
	LatestQR(ctx context.Context, invoiceID int64) (*payments.QR, error)
	CheckQR(ctx context.Context, qrID int64) (*payments.QR, error)
	CheckStatus(ctx context.Context, qrID int64) (*payments.QR, error)
	Inspect(ctx context.Context, md5, hash string) payments.Inspection
	LinkMessage(ctx context.Context, q *payments.QR, messageID int) error
	MessageOf(ctx context.Context, qrID int64) (*payments.Message, error)

	// Payments and their review.
	Payment(ctx context.Context, id int64) (*payments.Payment, error)
	Payments(ctx context.Context, f payments.PaymentFilter) ([]payments.Payment, error)
	VerifyShortHash(ctx context.Context, invoiceID int64, shortHash string) (*payments.Payment, error)
	Accept(ctx context.Context, paymentID, by int64) (*payments.Invoice, error)
	Reject(ctx context.Context, paymentID, by int64) (*payments.Invoice, error)

	// The outbox of changes to show.
	Wake() <-chan struct{}
	ClaimEvents(ctx context.Context, limit int) ([]payments.Event, time.Time, error)
	Release(ctx context.Context, ids []int64) error
	Delivered(ctx context.Context, id int64) error
	Progress(ctx context.Context, id int64, done payments.Progress) error
	Retry(ctx context.Context, id int64, after time.Duration) error

	// Replicas: leases, and the inbox of updates to handle (inbox.go).
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (time.Time, bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	LeaseHolder(ctx context.Context, name string) (string, error)
	StoreUpdates(ctx context.Context, ups []payments.Update, replica string, ttl time.Duration) ([]int64, error)
	StartUpdate(ctx context.Context, id int64, replica string, ttl time.Duration) (bool, error)
	RenewUpdates(ctx context.Context, ids []int64, replica string, ttl time.Duration) error
	ReleaseUpdate(ctx context.Context, id int64, replica string) error
	FinishUpdate(ctx context.Context, id int64) error
	ClaimUpdates(ctx context.Context, replica string, ttl time.Duration, limit int) ([]payments.Update, error)

	// Users, settings and health.
	User(ctx context.Context, id int64) (*payments.User, error)
	SetLanguage(ctx context.Context, userID int64, lang string) error
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	Ping(ctx context.Context) error
}

var _ Payments = (*payments.Service)(nil)
