// Package payments is the khqrbot domain: invoices, their QRs (payment
// attempts), the payments Bakong reports for them, and the rules that move an
// invoice from open to paid exactly once.
//
// It knows nothing of Telegram or of the database: storage implements Store,
// the bot consumes the outbox of Events. The Service creates invoices, issues
// and cancels QRs and settles payments; it is also a front end's one way in
// (queries.go holds the reads a front end needs), so the bot never holds the
// Store or the Bakong client. The Reconciler polls Bakong for every pending
// QR, one cycle value per tick, and settles what it finds through the
// Service.
//
// Several processes (replicas) may share one database: the Reconciler and
// the outbox consumer claim their work (Store.ClaimDueQRs, ClaimEvents),
// leases (replica.go) let one replica poll Telegram and one renew the
// token, and one Budget kept in the Store is the deployment's
// BAKONG_MAX_RPS, of which calls made for people take only the spare
// share (interactive.go). An Observer (observe.go) is told what happens,
// for metrics; Sales (sales.go) tallies what was paid, for /paid and
// /report.
//
// State that code decides by is typed, never parsed from the text people
// read: a payment's Cause, an alert's AlertKind.
package payments

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// InvoiceStatus is where an invoice stands. Open -> Paid happens exactly once.
type InvoiceStatus string

// Invoice statuses.
const (
	InvoiceOpen      InvoiceStatus = "open"      // waiting for a payment
	InvoicePaid      InvoiceStatus = "paid"      // settled: a verified payment arrived in time
	InvoiceReview    InvoiceStatus = "review"    // a payment arrived that an admin must judge
	InvoiceCancelled InvoiceStatus = "cancelled" // an admin cancelled it
)

// InvoiceKind tells how an invoice reaches the customer.
type InvoiceKind string

// Invoice kinds.
const (
	KindPay     InvoiceKind = "pay"     // /pay: a QR right in the chat where it was asked
	KindInvoice InvoiceKind = "invoice" // /invoice: a share link; each customer gets a QR of their own
)

// Invoice is what a customer owes.
type Invoice struct {
	ID          int64
	Number      string // "INV-000042", set by the store from ID
	Token       string // random, URL-safe; /start inv_<Token> opens it
	Kind        InvoiceKind
	Amount      Money
	Description string
	Status      InvoiceStatus
	CreatedBy   int64     // Telegram user id of the admin who made it
	ChatID      int64     // chat it was made in
	SourceKey   SourceKey // the request that made it; 0: none said
	PaymentID   int64     // the settling payment, once paid
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PaidAt      time.Time // zero unless paid
}

// Validate checks the fields a new invoice needs.
func (inv *Invoice) Validate() error {
	if err := inv.Amount.Validate(); err != nil {
		return err
	}
	if inv.Kind != KindPay && inv.Kind != KindInvoice {
		return Errorf(EInvalid, "invoice kind %q: want pay or invoice", inv.Kind)
	}
	if n := len([]rune(inv.Description)); n > MaxDescription {
		return Errorf(EInvalid, "description has %d characters, at most %d are allowed", n, MaxDescription)
	}
	return inv.SourceKey.Validate()
}

// CleanDescription is a description as an invoice keeps it: one line of
// text. Control characters (newlines, tabs, CR), line and paragraph
// separators and bidirectional overrides become spaces, runs of spaces one
// space, and the ends are trimmed, so a note shown on a line of its own in a
// caption or a list can never add lines of its own ("coffee\n✅ Paid") or
// turn text around. Joiners and zero-width spaces, which Khmer and emoji
// need, are kept.
func CleanDescription(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.In(r, unicode.Zl, unicode.Zp),
			r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// MaxDescription bounds an invoice's description, in characters.
const MaxDescription = 200

// SourceKey names the request of a front end that makes an invoice or a
// QR (the bot's: a Telegram update_id), so that the request, run again
// from the start (its first run's replica died before it finished), gets
// back what its first run made instead of making it twice. A store keeps
// at most one invoice and one QR per key. The domain only compares keys;
// 0 names no request (the CLI, tests), and such requests make a new
// invoice or QR each time.
type SourceKey int64

// Validate reports a negative key.
func (k SourceKey) Validate() error {
	if k < 0 {
		return Errorf(EInvalid, "source key %d: want a positive request id, or 0 for none", k)
	}
	return nil
}

// InvoiceNumber formats an invoice id as its number.
func InvoiceNumber(id int64) string { return fmt.Sprintf("INV-%06d", id) }

// QRStatus is where one payment attempt stands.
type QRStatus string

// QR statuses. Only pending QRs are polled.
const (
	QRPending   QRStatus = "pending"
	QRPaid      QRStatus = "paid"      // its payment settled the invoice
	QRExpired   QRStatus = "expired"   // final check after expiry found nothing
	QRFailed    QRStatus = "failed"    // Bakong reported the transaction failed
	QRCancelled QRStatus = "cancelled" // its invoice was cancelled
	QRReview    QRStatus = "review"    // paid late, or amount/currency/receiver differ, or paid twice
)

// QR is one dynamic KHQR issued for an invoice: its own bill number, md5 and
// expiry. An invoice can have several over its life.
type QR struct {
	ID         int64
	InvoiceID  int64
	BillNumber string // unique per QR, tag 62 sub 01
	Payload    string // the exact KHQR string the customer scans
	MD5        string // md5 of Payload, computed once at generation
	Amount     Money
	Receiver   string // Bakong account that must receive the money
	Deeplink   string // empty when generate_deeplink_by_qr failed
	Status     QRStatus
	ChatID     int64     // chat the QR was sent to
	UserID     int64     // who asked for it (admin for /pay, customer for /invoice links)
	SourceKey  SourceKey // the request that made it; 0: none said
	Sandbox    bool
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ClosedAt   time.Time // when it left pending

	// Polling state, kept so a restart resumes where it stopped.
	NextCheckAt   time.Time // when the reconciler should ask Bakong next
	LastCheckedAt time.Time
	CheckFailures int    // consecutive failed checks (errors, not "not found")
	LastError     string // the last check's error, for admins
}

// Live reports whether the customer can still pay it at t.
func (q *QR) Live(t time.Time) bool { return q.Status == QRPending && !t.After(q.ExpiresAt) }

// PaymentStatus says what a recorded payment did to its invoice.
type PaymentStatus string

// Payment statuses. An admin resolves a payment in review: Service.Accept
// settles the invoice with it, Service.Reject refuses it.
const (
	PaymentSettled   PaymentStatus = "settled"   // it settled the invoice (by itself, or accepted by an admin)
	PaymentReview    PaymentStatus = "review"    // late or mismatched: an admin decides
	PaymentDuplicate PaymentStatus = "duplicate" // the invoice was already settled: refund it
	PaymentRejected  PaymentStatus = "rejected"  // an admin refused it; the merchant refunds it outside the bot
)

// PaymentCause says why a payment did not settle its invoice by itself. It
// is typed state that decisions read (Reject reopens or re-cancels an
// invoice by it), so rewording Reason, which only people read, never
// changes settlement.
type PaymentCause string

// Payment causes.
const (
	CauseNone        PaymentCause = ""          // it settled its invoice by itself
	CauseMismatch    PaymentCause = "mismatch"  // wrong receiver, amount or currency, late, or no payment time
	CauseCancelled   PaymentCause = "cancelled" // it arrived after its invoice was cancelled
	CauseAlreadyPaid PaymentCause = "paid"      // its invoice was already paid: a duplicate
)

// Payment is a Bakong transaction found for a QR. Every one is recorded, even
// those that do not settle anything: nothing is lost.
type Payment struct {
	ID             int64
	Hash           string // full hash, 64 hex, unique
	ShortHash      string // first 8 of Hash
	QRID           int64
	InvoiceID      int64
	MD5            string
	FromAccount    string
	ToAccount      string
	Amount         Money
	Description    string
	ExternalRef    string
	InstructionRef string
	PaidAt         time.Time // Bakong's createdDateMs
	AcknowledgedAt time.Time
	Status         PaymentStatus
	Cause          PaymentCause // why it did not settle by itself; CauseNone when it did
	Reason         string       // Cause in words with the details, then who resolved it and when, for admins
	Source         string       // "poll", "check", "verify"
	CreatedAt      time.Time
}

// EventKind is what happened, for whoever tells the people concerned.
type EventKind string

// Event kinds written to the outbox.
const (
	EventSettled   EventKind = "settled"   // invoice paid (Detail names the admin when one accepted a payment in review)
	EventExpired   EventKind = "expired"   // a QR expired unpaid
	EventFailed    EventKind = "failed"    // a QR's transaction failed
	EventReview    EventKind = "review"    // a payment needs an admin
	EventDuplicate EventKind = "duplicate" // a second payment for a settled invoice
	EventRejected  EventKind = "rejected"  // an admin rejected a payment in review; its invoice may be open again
	EventCancelled EventKind = "cancelled" // invoice cancelled
	EventAlert     EventKind = "alert"     // checks keep failing, token expiring: admins only
)

// AlertKind says what an EventAlert is about, so that its reader phrases
// it (in the admin's language) without parsing Detail.
type AlertKind string

// Alert kinds.
const (
	AlertOutage        AlertKind = "outage"         // Bakong checks keep failing: payments are not being confirmed
	AlertRecovered     AlertKind = "recovered"      // Bakong answers again after an outage
	AlertQRChecks      AlertKind = "qr_checks"      // one QR's checks keep failing while Bakong otherwise answers
	AlertTokenExpiring AlertKind = "token_expiring" // the Open API token expires soon and will not renew itself
	AlertTokenExpired  AlertKind = "token_expired"  // the Open API token no longer works
)

// Event is an outbox row, written in the same transaction as the state change
// it reports, and marked delivered only once its subscriber is done with it.
type Event struct {
	ID          int64
	Kind        EventKind
	InvoiceID   int64
	QRID        int64
	PaymentID   int64
	Detail      string    // for alerts and reviews: what happened, in English, for admins and logs
	Alert       AlertKind // EventAlert: what it is about
	Expires     time.Time // token alerts: when the token expires (or expired)
	DaysLeft    int       // AlertTokenExpiring: whole days left when it was written
	CreatedAt   time.Time
	Attempts    int
	NextAttempt time.Time // zero: now
	DeliveredAt time.Time // zero: not yet
	Done        Progress  // the steps of its delivery already taken
}

// Progress is how far the delivery of an event got, so that delivering it
// again (after a failed step, a crash, or the death of the replica that had
// it) skips what Telegram already took. An event's steps are, in this
// order, bringing up to date the message of each QR it concerns, in QR id
// order, then telling each person it concerns, in user id order; each is
// one Telegram call (a few for one message: a text over Telegram's limit
// in parts, a deleted message sent afresh), recorded before the next step
// is made. Ids only grow, so
// "every step up to this id" stays true when a step is added between two
// deliveries (a QR issued since): the new one has a higher id.
type Progress struct {
	QR   int64 // the messages of the event's QRs with ids up to QR are up to date
	User int64 // the people with ids up to User were told
}

// Validate reports a progress no delivery records: a negative id.
func (p Progress) Validate() error {
	if p.QR < 0 || p.User < 0 {
		return Errorf(EInvalid, "delivery progress: QR %d, user %d; want ids of 0 or more", p.QR, p.User)
	}
	return nil
}

// Message links a Telegram message to the QR it shows, so state changes edit it.
type Message struct {
	ChatID    int64
	MessageID int
	QRID      int64
	InvoiceID int64
	CreatedAt time.Time
}

// User is a Telegram user the bot has met.
type User struct {
	ID        int64  // Telegram user id
	Language  string // "en" or "km"; empty: follow Telegram's language_code
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APICall is one Bakong Open API exchange, kept in the call log.
type APICall struct {
	ID           int64
	Endpoint     string
	RequestID    string
	HTTPStatus   int
	ResponseCode int
	ErrorCode    int
	Latency      time.Duration
	Err          string
	Key          string // what it was about (bakong.Call.Key): md5, hash, reference, "50 md5s"...
	QRID         int64  // the QR whose md5 Key is; 0 when the call was not about one QR
	At           time.Time
}
