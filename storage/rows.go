package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// Rows: the tables as the code reads and writes them today, kept apart from
// the domain types so that neither bends to the other. Zero values the
// schema keeps as NULL (no number yet, no link, not closed yet) are
// pointers. Timestamps are never filled by GORM: the caller's clock decides.

type invoiceRow struct {
	ID          int64
	Number      *string
	Token       *string
	Kind        string
	Amount      int64
	Currency    string
	Description string
	Status      string
	CreatedBy   int64
	ChatID      int64
	SourceKey   *int64
	PaymentID   *int64
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
	PaidAt      *time.Time
}

// TableName names the invoices table.
func (invoiceRow) TableName() string { return "invoices" }

func invoiceToRow(inv *payments.Invoice) invoiceRow {
	return invoiceRow{
		ID:          inv.ID,
		Number:      nullString(inv.Number),
		Token:       nullString(inv.Token),
		Kind:        string(inv.Kind),
		Amount:      inv.Amount.Amount,
		Currency:    string(inv.Amount.Currency),
		Description: inv.Description,
		Status:      string(inv.Status),
		CreatedBy:   inv.CreatedBy,
		ChatID:      inv.ChatID,
		SourceKey:   nullID(int64(inv.SourceKey)),
		PaymentID:   nullID(inv.PaymentID),
		CreatedAt:   utc(inv.CreatedAt),
		UpdatedAt:   utc(inv.UpdatedAt),
		PaidAt:      nullTime(inv.PaidAt),
	}
}

func (r *invoiceRow) domain() payments.Invoice {
	return payments.Invoice{
		ID:          r.ID,
		Number:      derefString(r.Number),
		Token:       derefString(r.Token),
		Kind:        payments.InvoiceKind(r.Kind),
		Amount:      payments.Money{Amount: r.Amount, Currency: payments.Currency(r.Currency)},
		Description: r.Description,
		Status:      payments.InvoiceStatus(r.Status),
		CreatedBy:   r.CreatedBy,
		ChatID:      r.ChatID,
		SourceKey:   payments.SourceKey(derefID(r.SourceKey)),
		PaymentID:   derefID(r.PaymentID),
		CreatedAt:   utc(r.CreatedAt),
		UpdatedAt:   utc(r.UpdatedAt),
		PaidAt:      derefTime(r.PaidAt),
	}
}

type qrRow struct {
	ID            int64
	InvoiceID     int64
	BillNumber    string
	Payload       string
	MD5           string `gorm:"column:md5"`
	Amount        int64
	Currency      string
	Receiver      string
	Deeplink      string
	Status        string
	ChatID        int64
	UserID        int64
	SourceKey     *int64
	Sandbox       bool
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt     time.Time
	ClosedAt      *time.Time
	NextCheckAt   time.Time
	LastCheckedAt *time.Time
	CheckFailures int
	LastError     string
}

// TableName names the qrs table.
func (qrRow) TableName() string { return "qrs" }

func qrToRow(q *payments.QR) qrRow {
	return qrRow{
		ID:            q.ID,
		InvoiceID:     q.InvoiceID,
		BillNumber:    q.BillNumber,
		Payload:       q.Payload,
		MD5:           q.MD5,
		Amount:        q.Amount.Amount,
		Currency:      string(q.Amount.Currency),
		Receiver:      q.Receiver,
		Deeplink:      q.Deeplink,
		Status:        string(q.Status),
		ChatID:        q.ChatID,
		UserID:        q.UserID,
		SourceKey:     nullID(int64(q.SourceKey)),
		Sandbox:       q.Sandbox,
		CreatedAt:     utc(q.CreatedAt),
		ExpiresAt:     utc(q.ExpiresAt),
		ClosedAt:      nullTime(q.ClosedAt),
		NextCheckAt:   utc(q.NextCheckAt),
		LastCheckedAt: nullTime(q.LastCheckedAt),
		CheckFailures: q.CheckFailures,
		LastError:     q.LastError,
	}
}

func (r *qrRow) domain() payments.QR {
	return payments.QR{
		ID:            r.ID,
		InvoiceID:     r.InvoiceID,
		BillNumber:    r.BillNumber,
		Payload:       r.Payload,
		MD5:           r.MD5,
		Amount:        payments.Money{Amount: r.Amount, Currency: payments.Currency(r.Currency)},
		Receiver:      r.Receiver,
		Deeplink:      r.Deeplink,
		Status:        payments.QRStatus(r.Status),
		ChatID:        r.ChatID,
		UserID:        r.UserID,
		SourceKey:     payments.SourceKey(derefID(r.SourceKey)),
		Sandbox:       r.Sandbox,
		CreatedAt:     utc(r.CreatedAt),
		ExpiresAt:     utc(r.ExpiresAt),
		ClosedAt:      derefTime(r.ClosedAt),
		NextCheckAt:   utc(r.NextCheckAt),
		LastCheckedAt: derefTime(r.LastCheckedAt),
		CheckFailures: r.CheckFailures,
		LastError:     r.LastError,
	}
}

type paymentRow struct {
	ID             int64
	Hash           string
	ShortHash      string
	QRID           *int64 `gorm:"column:qr_id"`
	InvoiceID      *int64
	MD5            string `gorm:"column:md5"`
	FromAccount    string
	ToAccount      string
	Amount         int64
	Currency       string
	Description    string
	ExternalRef    string
	InstructionRef string
	PaidAt         time.Time
	AcknowledgedAt *time.Time
	Status         string
	Cause          string
	Reason         string
	Source         string
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
}

// TableName names the payments table.
func (paymentRow) TableName() string { return "payments" }

func paymentToRow(p *payments.Payment) paymentRow {
	return paymentRow{
		ID:             p.ID,
		Hash:           p.Hash,
		ShortHash:      p.ShortHash,
		QRID:           nullID(p.QRID),
		InvoiceID:      nullID(p.InvoiceID),
		MD5:            p.MD5,
		FromAccount:    p.FromAccount,
		ToAccount:      p.ToAccount,
		Amount:         p.Amount.Amount,
		Currency:       string(p.Amount.Currency),
		Description:    p.Description,
		ExternalRef:    p.ExternalRef,
		InstructionRef: p.InstructionRef,
		PaidAt:         utc(p.PaidAt),
		AcknowledgedAt: nullTime(p.AcknowledgedAt),
		Status:         string(p.Status),
		Cause:          string(p.Cause),
		Reason:         p.Reason,
		Source:         p.Source,
		CreatedAt:      utc(p.CreatedAt),
	}
}

func (r *paymentRow) domain() payments.Payment {
	return payments.Payment{
		ID:             r.ID,
		Hash:           r.Hash,
		ShortHash:      r.ShortHash,
		QRID:           derefID(r.QRID),
		InvoiceID:      derefID(r.InvoiceID),
		MD5:            r.MD5,
		FromAccount:    r.FromAccount,
		ToAccount:      r.ToAccount,
		Amount:         payments.Money{Amount: r.Amount, Currency: payments.Currency(r.Currency)},
		Description:    r.Description,
		ExternalRef:    r.ExternalRef,
		InstructionRef: r.InstructionRef,
		PaidAt:         utc(r.PaidAt),
		AcknowledgedAt: derefTime(r.AcknowledgedAt),
		Status:         payments.PaymentStatus(r.Status),
		Cause:          payments.PaymentCause(r.Cause),
		Reason:         r.Reason,
		Source:         r.Source,
		CreatedAt:      utc(r.CreatedAt),
	}
}

type eventRow struct {
	ID          int64
	Kind        string
	InvoiceID   int64
	QRID        int64 `gorm:"column:qr_id"`
	PaymentID   int64
	Detail      string
	Alert       string
	Expires     *time.Time
	DaysLeft    int
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	Attempts    int
	NextAttempt time.Time
	DeliveredAt *time.Time
	DoneQR      int64 `gorm:"column:done_qr"`
	DoneUser    int64
}

// TableName names the outbox table.
func (eventRow) TableName() string { return "outbox" }

func eventToRow(e *payments.Event) eventRow {
	return eventRow{
		ID:          e.ID,
		Kind:        string(e.Kind),
		InvoiceID:   e.InvoiceID,
		QRID:        e.QRID,
		PaymentID:   e.PaymentID,
		Detail:      e.Detail,
		Alert:       string(e.Alert),
		Expires:     nullTime(e.Expires),
		DaysLeft:    e.DaysLeft,
		CreatedAt:   utc(e.CreatedAt),
		Attempts:    e.Attempts,
		NextAttempt: utc(e.NextAttempt),
		DeliveredAt: nullTime(e.DeliveredAt),
		DoneQR:      e.Done.QR,
		DoneUser:    e.Done.User,
	}
}

func (r *eventRow) domain() payments.Event {
	return payments.Event{
		ID:          r.ID,
		Kind:        payments.EventKind(r.Kind),
		InvoiceID:   r.InvoiceID,
		QRID:        r.QRID,
		PaymentID:   r.PaymentID,
		Detail:      r.Detail,
		Alert:       payments.AlertKind(r.Alert),
		Expires:     derefTime(r.Expires),
		DaysLeft:    r.DaysLeft,
		CreatedAt:   utc(r.CreatedAt),
		Attempts:    r.Attempts,
		NextAttempt: utc(r.NextAttempt),
		DeliveredAt: derefTime(r.DeliveredAt),
		Done:        payments.Progress{QR: r.DoneQR, User: r.DoneUser},
	}
}

type messageRow struct {
	ID        int64
	ChatID    int64
	MessageID int64
	QRID      int64 `gorm:"column:qr_id"`
	InvoiceID int64
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

// TableName names the messages table.
func (messageRow) TableName() string { return "messages" }

func (r *messageRow) domain() payments.Message {
	return payments.Message{
		ChatID:    r.ChatID,
		MessageID: int(r.MessageID),
		QRID:      r.QRID,
		InvoiceID: r.InvoiceID,
		CreatedAt: utc(r.CreatedAt),
	}
}

type userRow struct {
	ID        int64 `gorm:"primaryKey;autoIncrement:false"`
	Language  string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

// TableName names the users table.
func (userRow) TableName() string { return "users" }

func (r *userRow) domain() payments.User {
	return payments.User{
		ID:        r.ID,
		Language:  r.Language,
		CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt),
	}
}

type apiCallRow struct {
	ID           int64
	Endpoint     string
	RequestID    string
	HTTPStatus   int `gorm:"column:http_status"`
	ResponseCode int
	ErrorCode    int
	LatencyNS    int64 `gorm:"column:latency_ns"`
	Err          string
	Key          string `gorm:"column:call_key"`
	QRID         *int64 `gorm:"column:qr_id"`
	At           time.Time
}

// TableName names the api_calls table.
func (apiCallRow) TableName() string { return "api_calls" }

func (r *apiCallRow) domain() payments.APICall {
	return payments.APICall{
		ID:           r.ID,
		Endpoint:     r.Endpoint,
		RequestID:    r.RequestID,
		HTTPStatus:   r.HTTPStatus,
		ResponseCode: r.ResponseCode,
		ErrorCode:    r.ErrorCode,
		Latency:      time.Duration(r.LatencyNS),
		Err:          r.Err,
		Key:          r.Key,
		QRID:         derefID(r.QRID),
		At:           utc(r.At),
	}
}

type settingRow struct {
	Name      string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

// TableName names the settings table.
func (settingRow) TableName() string { return "settings" }

// domainRow is a row type R whose pointer converts it to its domain type T.
type domainRow[T, R any] interface {
	*R
	domain() T
}

// take reads the one row where cond holds, as its domain type; ENotFound,
// naming what, when there is none.
func take[T, R any, P domainRow[T, R]](ctx context.Context, d *DB, what, cond string, arg any) (*T, error) {
	var row R
	err := d.gdb.WithContext(ctx).Where(cond, arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, payments.Errorf(payments.ENotFound, "%s not found", what)
	}
	if err != nil {
		return nil, dbErr(err, "get %s", what)
	}
	v := P(&row).domain()
	return &v, nil
}

// find reads the rows q selects, as their domain type.
func find[T, R any, P domainRow[T, R]](q *gorm.DB, what string) ([]T, error) {
	var rows []R
	if err := q.Find(&rows).Error; err != nil {
		return nil, dbErr(err, "list %s", what)
	}
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = P(&rows[i]).domain()
	}
	return out, nil
}

// nullString stores "" as NULL, so that unique columns allow many blanks.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// nullID stores a zero id as NULL, which foreign keys accept.
func nullID(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// nullTime stores a zero time as NULL, and any other in UTC: stored times
// compare correctly only when they share one zone.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = utc(t)
	return &t
}

func derefTime(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return utc(*p)
}
