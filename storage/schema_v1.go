package storage

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The v1 schema, frozen: these structs describe the tables as migration 1
// creates them and must never change. The live row types in rows.go follow
// the latest schema; later migrations alter tables with explicit steps.

type v1Invoice struct {
	ID          int64      `gorm:"primaryKey;autoIncrement"`
	Number      *string    `gorm:"uniqueIndex:ux_invoices_number"` // NULL until the id is known
	Token       *string    `gorm:"uniqueIndex:ux_invoices_token"`  // NULL when the invoice has no link
	Kind        string     `gorm:"not null"`
	Amount      int64      `gorm:"not null"`
	Currency    string     `gorm:"not null"`
	Description string     `gorm:"not null"`
	Status      string     `gorm:"not null;index:ix_invoices_status_created,priority:1"`
	CreatedBy   int64      `gorm:"not null;index:ix_invoices_created_by"`
	ChatID      int64      `gorm:"not null"`
	PaymentID   *int64     // no foreign key: payments also point at invoices
	CreatedAt   time.Time  `gorm:"not null;index:ix_invoices_status_created,priority:2;autoCreateTime:false"`
	UpdatedAt   time.Time  `gorm:"not null;autoUpdateTime:false"`
	PaidAt      *time.Time `gorm:"index:ix_invoices_paid_at"`
}

// TableName names the invoices table.
func (v1Invoice) TableName() string { return "invoices" }

type v1QR struct {
	ID            int64      `gorm:"primaryKey;autoIncrement"`
	InvoiceID     int64      `gorm:"not null;index:ix_qrs_invoice"`
	Invoice       *v1Invoice `gorm:"foreignKey:InvoiceID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	BillNumber    string     `gorm:"not null;uniqueIndex:ux_qrs_bill_number"`
	Payload       string     `gorm:"not null"`
	MD5           string     `gorm:"column:md5;not null;uniqueIndex:ux_qrs_md5"`
	Amount        int64      `gorm:"not null"`
	Currency      string     `gorm:"not null"`
	Receiver      string     `gorm:"not null"`
	Deeplink      string     `gorm:"not null"`
	Status        string     `gorm:"not null;index:ix_qrs_due,priority:1"`
	ChatID        int64      `gorm:"not null"`
	UserID        int64      `gorm:"not null"`
	Sandbox       bool       `gorm:"not null"`
	CreatedAt     time.Time  `gorm:"not null;autoCreateTime:false"`
	ExpiresAt     time.Time  `gorm:"not null"`
	ClosedAt      *time.Time
	NextCheckAt   time.Time `gorm:"not null;index:ix_qrs_due,priority:2"`
	LastCheckedAt *time.Time
	CheckFailures int    `gorm:"not null"`
	LastError     string `gorm:"not null"`
}

// TableName names the qrs table.
func (v1QR) TableName() string { return "qrs" }

type v1Payment struct {
	ID             int64      `gorm:"primaryKey;autoIncrement"`
	Hash           string     `gorm:"not null;uniqueIndex:ux_payments_hash"`
	ShortHash      string     `gorm:"not null;index:ix_payments_short_hash"`
	QRID           *int64     `gorm:"column:qr_id;index:ix_payments_qr"`
	QR             *v1QR      `gorm:"foreignKey:QRID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	InvoiceID      *int64     `gorm:"index:ix_payments_invoice"`
	Invoice        *v1Invoice `gorm:"foreignKey:InvoiceID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	MD5            string     `gorm:"column:md5;not null"`
	FromAccount    string     `gorm:"not null"`
	ToAccount      string     `gorm:"not null"`
	Amount         int64      `gorm:"not null"`
	Currency       string     `gorm:"not null"`
	Description    string     `gorm:"not null"`
	ExternalRef    string     `gorm:"not null"`
	InstructionRef string     `gorm:"not null"`
	PaidAt         time.Time  `gorm:"not null;index:ix_payments_paid_at"`
	AcknowledgedAt *time.Time
	Status         string    `gorm:"not null"`
	Reason         string    `gorm:"not null"`
	Source         string    `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null;autoCreateTime:false"`
}

// TableName names the payments table.
func (v1Payment) TableName() string { return "payments" }

type v1Event struct {
	ID          int64     `gorm:"primaryKey;autoIncrement"`
	Kind        string    `gorm:"not null"`
	InvoiceID   int64     `gorm:"not null"` // no foreign keys: an alert may concern nothing stored
	QRID        int64     `gorm:"column:qr_id;not null"`
	PaymentID   int64     `gorm:"not null"`
	Detail      string    `gorm:"not null"`
	CreatedAt   time.Time `gorm:"not null;autoCreateTime:false"`
	Attempts    int       `gorm:"not null"`
	NextAttempt time.Time `gorm:"not null;index:ix_outbox_pending,where:delivered_at IS NULL"`
	DeliveredAt *time.Time
}

// TableName names the outbox table.
func (v1Event) TableName() string { return "outbox" }

type v1Message struct {
	ID        int64      `gorm:"primaryKey;autoIncrement"`
	ChatID    int64      `gorm:"not null;index:ix_messages_chat,priority:1"`
	MessageID int64      `gorm:"not null;index:ix_messages_chat,priority:2"`
	QRID      int64      `gorm:"column:qr_id;not null;uniqueIndex:ux_messages_qr"`
	QR        *v1QR      `gorm:"foreignKey:QRID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	InvoiceID int64      `gorm:"not null;index:ix_messages_invoice"`
	Invoice   *v1Invoice `gorm:"foreignKey:InvoiceID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	CreatedAt time.Time  `gorm:"not null;autoCreateTime:false"`
}

// TableName names the messages table.
func (v1Message) TableName() string { return "messages" }

type v1User struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"` // Telegram user id
	Language  string    `gorm:"not null"`
	Role      string    `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"not null;autoUpdateTime:false"`
}

// TableName names the users table.
func (v1User) TableName() string { return "users" }

type v1APICall struct {
	ID           int64     `gorm:"primaryKey;autoIncrement"`
	Endpoint     string    `gorm:"not null"`
	RequestID    string    `gorm:"not null"`
	HTTPStatus   int       `gorm:"column:http_status;not null"`
	ResponseCode int       `gorm:"not null"`
	ErrorCode    int       `gorm:"not null"`
	LatencyNS    int64     `gorm:"column:latency_ns;not null"`
	Err          string    `gorm:"not null"`
	Key          string    `gorm:"column:call_key;not null"`           // what the call was about ("key" is reserved in some SQL dialects)
	QRID         *int64    `gorm:"column:qr_id;index:ix_api_calls_qr"` // no foreign key: the log must never refuse a line
	At           time.Time `gorm:"not null"`
}

// TableName names the api_calls table.
func (v1APICall) TableName() string { return "api_calls" }

type v1Setting struct {
	Name      string    `gorm:"primaryKey;not null"`
	Value     string    `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null;autoUpdateTime:false"`
}

// TableName names the settings table.
func (v1Setting) TableName() string { return "settings" }

// createV1 creates every table, referenced tables first.
func createV1(tx *gorm.DB) error {
	for _, t := range []any{&v1Invoice{}, &v1QR{}, &v1Payment{}, &v1Event{}, &v1Message{}, &v1User{}, &v1APICall{}, &v1Setting{}} {
		if err := tx.Migrator().CreateTable(t); err != nil {
			return fmt.Errorf("create table %T: %w", t, err)
		}
	}
	return nil
}
