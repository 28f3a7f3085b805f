package payments

import (
	"context"
	"time"
)

// Store keeps the domain's state. storage implements it with GORM; the domain
// never sees SQL. Lookups of a missing row return an *Error with ENotFound.
// Every method is safe for concurrent use, from several processes on one database.
type Store interface {
	// WithTx runs fn inside one database transaction: everything fn does
	// through tx commits together or not at all. Nested calls reuse the transaction.
	WithTx(ctx context.Context, fn func(tx Store) error) error

	// CreateInvoice inserts inv and sets its ID, Number and timestamps.
	// When an invoice with inv's SourceKey (not 0) is stored already it
	// inserts nothing and fails with EConflict wrapping ErrSourceKeyUsed.
	CreateInvoice(ctx context.Context, inv *Invoice) error
	// InvoiceBySource returns the invoice made by the request key names.
	InvoiceBySource(ctx context.Context, key SourceKey) (*Invoice, error)
	Invoice(ctx context.Context, id int64) (*Invoice, error)
	InvoiceByNumber(ctx context.Context, number string) (*Invoice, error)
	InvoiceByToken(ctx context.Context, token string) (*Invoice, error)
	// SetInvoiceStatus moves invoice id to status `to` only if its status is one
	// of `from`, and reports whether it did. paymentID and at are stored with it
	// (PaidAt when `to` is InvoicePaid). This conditional update is what makes
	// settlement happen exactly once.
	SetInvoiceStatus(ctx context.Context, id int64, from []InvoiceStatus, to InvoiceStatus, paymentID int64, at time.Time) (bool, error)
	// ListInvoices returns the invoices f selects, newest first: by
	// CreatedAt, or by PaidAt when f.PaidRange is set.
	ListInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error)

	// CreateQR inserts q and sets its ID. MD5 and BillNumber are unique,
	// and so is SourceKey when not 0: a QR with q's is EConflict wrapping
	// ErrSourceKeyUsed, and nothing is inserted.
	CreateQR(ctx context.Context, q *QR) error
	// QRBySource returns the QR made by the request key names.
	QRBySource(ctx context.Context, key SourceKey) (*QR, error)
	QR(ctx context.Context, id int64) (*QR, error)
	QRByMD5(ctx context.Context, md5 string) (*QR, error)
	// ListQRs returns the QRs f selects, newest (highest ID) first.
	ListQRs(ctx context.Context, f QRFilter) ([]QR, error)
	// SetQRStatus moves QR id to `to` only if its status is one of `from`, and
	// reports whether it did; `at` becomes ClosedAt when `to` is not pending.
	SetQRStatus(ctx context.Context, id int64, from []QRStatus, to QRStatus, at time.Time) (bool, error)
	// SetQRDeeplink stores the deeplink found after the QR was created.
	SetQRDeeplink(ctx context.Context, id int64, link string) error
	// SetQRCheck records the outcome of a check: when to check next, the
	// consecutive failure count and the last error ("" on success).
	SetQRCheck(ctx context.Context, id int64, checkedAt, next time.Time, failures int, lastErr string) error
	// SetQRChecks records many checks at once, all or none, far cheaper than
	// as many SetQRCheck calls: a reconciler cycle records thousands. A QR
	// that does not exist is ENotFound; an invalid check, or a QR named
	// twice, EInvalid.
	SetQRChecks(ctx context.Context, checks []QRCheck) error

	// CreatePayment inserts p and sets its ID. A payment whose Hash is already
	// stored returns an *Error with EConflict and changes nothing.
	CreatePayment(ctx context.Context, p *Payment) error
	Payment(ctx context.Context, id int64) (*Payment, error)
	PaymentByHash(ctx context.Context, hash string) (*Payment, error)
	// SetPaymentStatus moves payment id to `to` only if its status is one of
	// `from`, and reports whether it did. A non-empty note (who resolved it),
	// dated `at`, is appended to the payment's Reason, so the payment keeps
	// why it went to review and how that ended. Like SetInvoiceStatus, this
	// conditional update makes an admin's decision happen once.
	SetPaymentStatus(ctx context.Context, id int64, from []PaymentStatus, to PaymentStatus, note string, at time.Time) (bool, error)
	// ListPayments returns the payments f selects, newest (highest ID) first.
	ListPayments(ctx context.Context, f PaymentFilter) ([]Payment, error)

	// AddEvent appends e to the outbox and sets its ID.
	AddEvent(ctx context.Context, e *Event) error
	// PendingEvents returns up to limit undelivered events whose NextAttempt is
	// at or before now, in ID order.
	PendingEvents(ctx context.Context, now time.Time, limit int) ([]Event, error)
	// MarkEventDelivered marks event id delivered at `at`.
	MarkEventDelivered(ctx context.Context, id int64, at time.Time) error
	// DelayEvent counts a failed delivery and sets when to try again.
	DelayEvent(ctx context.Context, id int64, next time.Time) error
	// SetEventProgress records how far the delivery of event id got; it
	// never moves back.
	SetEventProgress(ctx context.Context, id int64, done Progress) error

	// LinkMessage records that a Telegram message shows a QR; a QR has at most
	// one message, and linking again replaces it.
	LinkMessage(ctx context.Context, m Message) error
	MessageByQR(ctx context.Context, qrID int64) (*Message, error)

	// User returns a user, or ENotFound; SaveUser inserts or updates one.
	User(ctx context.Context, id int64) (*User, error)
	SaveUser(ctx context.Context, u *User) error

	// Setting returns a stored value ("" and no error when unset); SetSetting stores it.
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error

	// LogCall appends one Bakong API exchange to the call log.
	LogCall(ctx context.Context, c *APICall) error
	// LogCalls appends calls to the call log in one transaction, a few
	// statements however many: the reconciler's exchanges are logged in
	// batches (CallLog). A call whose QRID is zero and whose Key is the md5
	// of a stored QR is filed under that QR.
	LogCalls(ctx context.Context, calls []APICall) error
	// ListCalls returns up to limit (0: all) logged calls about QR qrID, or
	// about anything when qrID is 0, newest first.
	ListCalls(ctx context.Context, qrID int64, limit int) ([]APICall, error)

	// Prune deletes what nobody reads any more, oldest first: up to limit
	// call-log rows logged before `before`, up to limit outbox events
	// delivered before it (undelivered ones stay, however old) and up to
	// limit stored updates (StoreUpdates) taken before it. It reports
	// how many rows it deleted; limit must be positive.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)

	// Backlog counts what waits: pending QRs, payments in review,
	// undelivered events and the oldest one's CreatedAt (CountedAt is left
	// for the caller). It is cheap enough for every metrics scrape: QRs and
	// events are counted on their indexes, and payments are few.
	Backlog(ctx context.Context) (Backlog, error)

	// Replica coordination: several processes on one database share the
	// work through these, and only these.

	// ClaimDueQRs returns up to limit pending QRs with an ID above after
	// whose NextCheckAt is at or before now, in ID order, and claims them
	// for one of several replicas by moving their NextCheckAt to until, so
	// no other claimer takes them before then. A claimer passes the last ID
	// it claimed as after, and so reads no claimed QR twice. For speed (a
	// reconciler cycle claims thousands) each QR holds only ID, InvoiceID,
	// BillNumber, MD5, Status, ExpiresAt, NextCheckAt (before the claim) and
	// CheckFailures. The claimer records their checks (SetQRChecks) or
	// closes them; if it dies they are due again at until.
	ClaimDueQRs(ctx context.Context, now, until time.Time, after int64, limit int) ([]QR, error)
	// ClaimEvents is PendingEvents for one of several replicas: it claims
	// the events it returns by moving their NextAttempt to until. The
	// claimer marks each delivered or delays it; if it dies they are due
	// again at until.
	ClaimEvents(ctx context.Context, now, until time.Time, limit int) ([]Event, error)
	// AcquireLease gives the lease called name to holder until `until` if
	// it is free at now (never taken, expired, or holder's own, which this
	// renews), and reports whether holder holds it.
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// ReleaseLease ends holder's lease at once; another's is left alone.
	ReleaseLease(ctx context.Context, name, holder string) error
	// Lease reports who holds the lease called name, and until when.
	Lease(ctx context.Context, name string) (holder string, until time.Time, err error)
	// StoreUpdates keeps the updates of one delivery (a getUpdates batch,
	// a webhook post) in the inbox, in one statement, claimed by holder
	// until `until`; at is when they were taken. An update already stored
	// (Telegram delivering it again) is left as it is. It reports the ids
	// it stored, in ups' order: the updates holder is to handle.
	StoreUpdates(ctx context.Context, ups []Update, holder string, at, until time.Time) ([]int64, error)
	// StartUpdate claims stored update id for holder until `until`, counts
	// a try, and reports whether holder may run it now: it is not done,
	// its claim is holder's or ended at now, and no earlier update of its
	// chat is still to be done.
	StartUpdate(ctx context.Context, id int64, holder string, now, until time.Time) (bool, error)
	// RenewUpdates extends holder's claims on the updates ids that are not
	// done to until; claims another took are left alone.
	RenewUpdates(ctx context.Context, ids []int64, holder string, until time.Time) error
	// ReleaseUpdate ends holder's claim on update id at now, so the next
	// claimer (ClaimUpdates) takes it; another's claim is left alone.
	ReleaseUpdate(ctx context.Context, id int64, holder string, now time.Time) error
	// FinishUpdate marks update id done at `at` and forgets its body; its
	// id stays, so that Telegram delivering it again changes nothing,
	// until Prune.
	FinishUpdate(ctx context.Context, id int64, at time.Time) error
	// ClaimUpdates claims for holder, until `until`, up to limit stored
	// updates that are not done and whose claim ended at now, in update id
	// order, and returns them as they were before the claim. An update
	// whose chat has an earlier one not done and claimed by someone is
	// left for later: a chat's updates are run in order.
	ClaimUpdates(ctx context.Context, holder string, now, until time.Time, limit int) ([]Update, error)
	// SwapSetting sets key to new only if its value is old ("" when
	// unset), and reports whether it did.
	SwapSetting(ctx context.Context, key, old, new string) (bool, error)
	// TakeBudget spends up to n requests of the shared token bucket called
	// name (one request per cost, bursts up to burst ahead of now) as far
	// as it allows and reports how many; when none, how long until one.
	TakeBudget(ctx context.Context, name string, now time.Time, cost, burst time.Duration, n int) (int, time.Duration, error)
	// ReleaseQRs gives back claimed QRs that were not checked: due at next.
	ReleaseQRs(ctx context.Context, ids []int64, next time.Time) error
	// ReleaseEvents gives back claimed events that were not delivered: due at next.
	ReleaseEvents(ctx context.Context, ids []int64, next time.Time) error

	// Close releases the database.
	Close() error
}

// InvoiceFilter selects invoices; zero fields match everything.
type InvoiceFilter struct {
	Statuses  []InvoiceStatus
	CreatedBy int64
	Since     time.Time // CreatedAt >= Since (PaidAt when PaidRange is set)
	Until     time.Time // exclusive
	PaidRange bool      // apply Since/Until to PaidAt instead of CreatedAt
	Limit     int       // 0: no limit
	Offset    int
}

// QRCheck is the outcome of one check of a QR, for Store.SetQRChecks.
type QRCheck struct {
	QRID      int64
	CheckedAt time.Time // zero: never checked
	Next      time.Time // when to check again
	Failures  int       // consecutive failed checks; 0 after an answer
	LastError string    // "" after an answer
}

// Validate reports a check that names no QR, has no next check time or a
// negative failure count.
func (c QRCheck) Validate() error {
	switch {
	case c.QRID <= 0:
		return Errorf(EInvalid, "QR check: QR id %d, want a positive id", c.QRID)
	case c.Next.IsZero():
		return Errorf(EInvalid, "QR check of QR %d: no next check time", c.QRID)
	case c.Failures < 0:
		return Errorf(EInvalid, "QR check of QR %d: %d failures, want 0 or more", c.QRID, c.Failures)
	}
	return nil
}

// QRFilter selects QRs; zero fields match everything.
type QRFilter struct {
	InvoiceID int64
	UserID    int64     // who asked for it
	ChatID    int64     // where it was sent
	Since     time.Time // CreatedAt >= Since
	Amount    Money     // zero: any amount
	Statuses  []QRStatus
	Limit     int
	Offset    int
}

// PaymentFilter selects payments; zero fields match everything.
type PaymentFilter struct {
	InvoiceID int64
	QRID      int64
	Statuses  []PaymentStatus
	Since     time.Time // PaidAt >= Since
	Until     time.Time // exclusive
	Limit     int
}
