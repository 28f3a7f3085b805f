package payments

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
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

// Validate checks what every QR needs of the merchant. khqr.Encode checks the
// finer limits of each tag.
func (m Merchant) Validate() error {
	if name, bank, ok := strings.Cut(m.AccountID, "@"); !ok || name == "" || bank == "" || strings.Contains(bank, "@") {
		return Errorf(EInvalid, "merchant account %q: want a Bakong account id like name@bank", m.AccountID)
	}
	if strings.TrimSpace(m.Name) == "" {
		return Errorf(EInvalid, "merchant name is empty: every KHQR carries one")
	}
	if m.MerchantID != "" && m.AcquiringBank == "" {
		return Errorf(EInvalid, "merchant id %q needs an acquiring bank", m.MerchantID)
	}
	return nil
}

// Config tunes the Service.
type Config struct {
	Merchant Merchant
	QRTTL    time.Duration // lifetime of each QR; never more than MaxQRTTL; 0: DefaultQRTTL
	Grace    time.Duration // final check this long after expiry; default 30s
	Sandbox  bool          // QRs are marked sandbox: no real money
	Observer Observer      // told of invoices, payments and settlements (metrics); nil: nobody

	// MaxLiveQRs caps the pending QRs of one invoice, so that a share link
	// cannot make the reconciler poll without end; 0: DefaultMaxLiveQRs,
	// negative: no cap.
	MaxLiveQRs int
	// MaxQRsPerHour caps the QRs one user (not an admin) may be issued in an
	// hour, across invoices; 0: DefaultMaxQRsPerHour, negative: no cap.
	MaxQRsPerHour int

	// Budget is the Bakong request budget the Service's own calls draw
	// from (see interactive.go); nil: its Reconciler's, once there is one.
	Budget Budget
	// CheckCooldown: CheckStatus answers from a check this recent; 0:
	// DefaultCheckCooldown.
	CheckCooldown time.Duration
}

// MaxQRTTL is the longest a dynamic QR may live (NBC's integration guide).
const MaxQRTTL = 10 * time.Minute

// Defaults for a zero Config field.
const (
	DefaultQRTTL         = MaxQRTTL // QR_TTL
	DefaultGrace         = 30 * time.Second
	DefaultMaxLiveQRs    = 20
	DefaultMaxQRsPerHour = 10
)

// Payment sources: how a transaction was found.
const (
	SourcePoll   = "poll"   // the reconciler's md5 checks
	SourceCheck  = "check"  // an explicit CheckQR
	SourceVerify = "verify" // an admin's /verify with a receipt's short hash
)

// Service creates invoices, issues and cancels their QRs and settles payments.
//
// Every state change it makes writes its outbox Event in the same
// transaction; after the commit it signals Wake, so the bot delivers at once.
// It is safe for concurrent use, and several processes may serve one database.
type Service struct {
	store Store
	api   Bakong
	clock Clock
	cfg   Config
	log   *slog.Logger
	wake  chan struct{}

	shared atomic.Pointer[Budget]    // what calls made for people draw from
	paused atomic.Pointer[time.Time] // such calls wait until then after a 429
}

// NewService checks cfg and returns a Service. A nil clock is the system
// clock and a nil log discards.
func NewService(store Store, api Bakong, clock Clock, cfg Config, log *slog.Logger) (*Service, error) {
	if store == nil || api == nil {
		return nil, Errorf(EInvalid, "payments service needs a store and a Bakong client")
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Merchant.Validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.QRTTL == 0:
		cfg.QRTTL = DefaultQRTTL
	case cfg.QRTTL < 0 || cfg.QRTTL > MaxQRTTL:
		return nil, Errorf(EInvalid, "QR lifetime %s: want more than 0 and at most %s", cfg.QRTTL, MaxQRTTL)
	}
	switch {
	case cfg.Grace == 0:
		cfg.Grace = DefaultGrace
	case cfg.Grace < 0:
		return nil, Errorf(EInvalid, "grace %s: want a positive duration", cfg.Grace)
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.MaxLiveQRs == 0 {
		cfg.MaxLiveQRs = DefaultMaxLiveQRs
	}
	if cfg.MaxQRsPerHour == 0 {
		cfg.MaxQRsPerHour = DefaultMaxQRsPerHour
	}
	if cfg.CheckCooldown <= 0 {
		cfg.CheckCooldown = DefaultCheckCooldown
	}
	s := &Service{store: store, api: api, clock: clock, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
	if cfg.Budget != nil {
		s.shareBudget(cfg.Budget)
	}
	return s, nil
}

// NewInvoice is what CreateInvoice needs.
type NewInvoice struct {
	Kind        InvoiceKind
	Amount      Money
	Description string
	CreatedBy   int64
	ChatID      int64
	SourceKey   SourceKey // the request asking for it, run again with the same key; 0: none
}

// QRRequest asks for a QR for an open invoice, to be shown in ChatID to UserID.
type QRRequest struct {
	InvoiceID int64
	ChatID    int64
	UserID    int64
	Admin     bool      // UserID administers the shop: Config.MaxQRsPerHour does not apply
	SourceKey SourceKey // the request asking for it, run again with the same key; 0: none
}

// CreateInvoice validates and stores a new open invoice with a random token
// for its share link.
//
// A request run again (n.SourceKey of an invoice stored before, asking for
// the same kind, amount and description in the same chat by the same
// admin) gets the invoice its first run made, whatever its status since,
// and nothing new is stored. A key stored with another request's invoice
// is no redo (Telegram picks update ids anew after a week without
// updates): that request gets a new invoice, with no key.
func (s *Service) CreateInvoice(ctx context.Context, n NewInvoice) (*Invoice, error) {
	now := s.clock.Now()
	inv := &Invoice{
		Token:       newToken(),
		Kind:        n.Kind,
		Amount:      n.Amount,
		Description: CleanDescription(n.Description),
		Status:      InvoiceOpen,
		CreatedBy:   n.CreatedBy,
		ChatID:      n.ChatID,
		SourceKey:   n.SourceKey,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := inv.Validate(); err != nil {
		return nil, err
	}
	err := s.store.CreateInvoice(ctx, inv)
	if errors.Is(err, ErrSourceKeyUsed) {
		first, ferr := s.store.InvoiceBySource(ctx, inv.SourceKey)
		if ferr != nil {
			return nil, fmt.Errorf("create invoice: the invoice of source key %d: %w", inv.SourceKey, ferr)
		}
		if first.Kind == inv.Kind && first.Amount == inv.Amount && first.Description == inv.Description &&
			first.CreatedBy == inv.CreatedBy && first.ChatID == inv.ChatID {
			return first, nil
		}
		s.log.Warn("source key of another invoice; making this one without", "key", inv.SourceKey, "invoice", first.Number)
		inv.SourceKey = 0
		err = s.store.CreateInvoice(ctx, inv)
	}
	if err != nil {
		return nil, fmt.Errorf("create invoice: %w", err)
	}
	s.cfg.Observer.InvoiceCreated(inv.Amount.Currency)
	return inv, nil
}

// newToken returns 22 URL-safe characters from 128 random bits: unguessable,
// and valid in a Telegram /start parameter.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxBillNumber is the longest bill number tag 62 sub 01 holds.
const maxBillNumber = 25

// IssueQR generates a fresh dynamic KHQR for an open invoice, stores it as
// pending and asks Bakong for its deeplink (optional: failure leaves it empty).
//
// A request run again (r.SourceKey of a QR stored before for the same
// invoice, user and chat) gets the QR its first run made, whatever its
// status since, and no new one; its deeplink is asked for again if the
// first run stored none and it is still pending. A key stored with another
// request's QR is no redo: that request gets a new QR, with no key.
//
// Each QR gets its own bill number, "<invoice number>-<attempt>", and expires
// QRTTL after now. It is due for polling at once (NextCheckAt = now).
//
// It is refused (EConflict wrapping ErrLiveQRLimit) when the invoice already
// has Config.MaxLiveQRs pending QRs, and (ErrHourlyQRLimit) when a user who
// is not an admin was issued Config.MaxQRsPerHour QRs in the last hour. Its
// transaction reads only a few rows by index, however many QRs the invoice
// had before.
func (s *Service) IssueQR(ctx context.Context, r QRRequest) (*QR, error) {
	q, _, err := s.qr(ctx, r, false)
	return q, err
}

// QRFor returns the QR to show a user for an invoice: the QR r's request
// made when it ran before (see IssueQR), or the live QR already issued to
// them in that chat, which has at least minReuseLife left (reused is then
// true), or else a fresh one from IssueQR. Opening a share
// link or pressing New QR again thus resends one QR rather than minting
// more, each with its own deeplink call and polling.
func (s *Service) QRFor(ctx context.Context, r QRRequest) (q *QR, reused bool, err error) {
	return s.qr(ctx, r, true)
}

// minReuseLife is the least life a QR must have left to be shown again;
// one about to expire is replaced.
const minReuseLife = time.Minute

// qr is IssueQR, and QRFor when reuse is set.
func (s *Service) qr(ctx context.Context, r QRRequest, reuse bool) (*QR, bool, error) {
	if err := r.SourceKey.Validate(); err != nil {
		return nil, false, err
	}
	var q *QR
	var reused bool
	err := s.raceTx(ctx, func(st Store) error {
		var err error
		q, reused, err = s.qrTx(ctx, st, r, reuse)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("issue QR for invoice %d: %w", r.InvoiceID, err)
	}
	redo := reused && r.SourceKey != 0 && q.SourceKey == r.SourceKey
	if !reused || redo && q.Deeplink == "" && q.Status == QRPending {
		s.addDeeplink(ctx, q)
	}
	return q, reused, nil
}

// qrTx is qr's transaction. Every read is bounded and by index.
func (s *Service) qrTx(ctx context.Context, st Store, r QRRequest, reuse bool) (*QR, bool, error) {
	if r.SourceKey != 0 {
		made, err := st.QRBySource(ctx, r.SourceKey)
		switch {
		case err == nil && made.InvoiceID == r.InvoiceID && made.UserID == r.UserID && made.ChatID == r.ChatID:
			return made, true, nil
		case err == nil:
			s.log.Warn("source key of another QR; making this one without", "key", r.SourceKey, "qr", made.ID)
			r.SourceKey = 0
		case ErrorCode(err) != ENotFound:
			return nil, false, err
		}
	}
	inv, err := st.Invoice(ctx, r.InvoiceID)
	if err != nil {
		return nil, false, err
	}
	if inv.Status != InvoiceOpen {
		return nil, false, Errorf(EConflict, "invoice %s is %s: only an open invoice gets a new QR", inv.Number, inv.Status)
	}
	now := s.clock.Now()
	pending := []QRStatus{QRPending}
	if reuse {
		mine, err := st.ListQRs(ctx, QRFilter{InvoiceID: inv.ID, UserID: r.UserID, ChatID: r.ChatID, Statuses: pending, Limit: 1})
		if err != nil {
			return nil, false, err
		}
		if len(mine) == 1 && !mine[0].ExpiresAt.Before(now.Add(minReuseLife)) {
			return &mine[0], true, nil
		}
	}
	if n := s.cfg.MaxLiveQRs; n > 0 {
		live, err := st.ListQRs(ctx, QRFilter{InvoiceID: inv.ID, Statuses: pending, Limit: n})
		if err != nil {
			return nil, false, err
		}
		if len(live) >= n {
			return nil, false, &Error{Code: EConflict, Message: fmt.Sprintf("invoice %s has %d live QRs, the most it may have", inv.Number, n), Err: ErrLiveQRLimit}
		}
	}
	if n := s.cfg.MaxQRsPerHour; n > 0 && !r.Admin {
		recent, err := st.ListQRs(ctx, QRFilter{UserID: r.UserID, Since: now.Add(-time.Hour), Limit: n})
		if err != nil {
			return nil, false, err
		}
		if len(recent) >= n {
			return nil, false, &Error{Code: EConflict, Message: fmt.Sprintf("user %d was issued %d QRs in the last hour, the most allowed", r.UserID, n), Err: ErrHourlyQRLimit}
		}
	}
	last, err := st.ListQRs(ctx, QRFilter{InvoiceID: inv.ID, Limit: 1})
	if err != nil {
		return nil, false, err
	}
	attempt := 1
	if len(last) == 1 {
		attempt = attemptOf(inv, &last[0]) + 1
	}
	q, err := s.newQR(inv, r, attempt)
	if err != nil {
		return nil, false, err
	}
	if err := st.CreateQR(ctx, q); err != nil {
		if ErrorCode(err) == EConflict {
			return nil, false, errRace // another QR took the bill number: count again
		}
		return nil, false, err
	}
	return q, false, nil
}

// attemptOf reads the attempt number from q's bill number; a bill number
// this Service did not write counts as the invoice's newest QR id, which
// stays unique all the same.
func attemptOf(inv *Invoice, q *QR) int {
	if n, err := strconv.Atoi(strings.TrimPrefix(q.BillNumber, inv.Number+"-")); err == nil && n > 0 {
		return n
	}
	return int(q.ID)
}

// newQR encodes the attempt-th QR of inv.
func (s *Service) newQR(inv *Invoice, r QRRequest, attempt int) (*QR, error) {
	bill := inv.Number + "-" + strconv.Itoa(attempt)
	if len(bill) > maxBillNumber {
		return nil, Errorf(EInternal, "bill number %s is longer than %d characters", bill, maxBillNumber)
	}
	now := s.clock.Now()
	exp := now.Add(s.cfg.QRTTL).Truncate(time.Millisecond) // tag 99 holds milliseconds
	m := s.cfg.Merchant
	info := khqr.Info{
		Type:          khqr.Individual,
		AccountID:     m.AccountID,
		AcquiringBank: m.AcquiringBank,
		MerchantName:  m.Name,
		MerchantCity:  m.City,
		Currency:      inv.Amount.Currency,
		Amount:        inv.Amount.Amount,
		BillNumber:    bill,
		ExpiresAt:     exp,
	}
	if m.MerchantID != "" && m.AcquiringBank != "" {
		info.Type = khqr.Merchant
		info.MerchantID = m.MerchantID
	}
	code, err := khqr.Encode(info, now)
	if err != nil {
		return nil, &Error{Code: EInvalid, Message: "encode KHQR for " + bill, Err: err}
	}
	return &QR{
		InvoiceID:   inv.ID,
		BillNumber:  bill,
		Payload:     code.String,
		MD5:         code.MD5,
		Amount:      inv.Amount,
		Receiver:    m.AccountID,
		Status:      QRPending,
		ChatID:      r.ChatID,
		UserID:      r.UserID,
		SourceKey:   r.SourceKey,
		Sandbox:     s.cfg.Sandbox,
		CreatedAt:   now,
		ExpiresAt:   exp,
		NextCheckAt: now,
	}, nil
}

// deeplinkTimeout bounds the optional deeplink call, so a slow Bakong never
// holds back the QR itself.
const deeplinkTimeout = 10 * time.Second

// addDeeplink asks Bakong for q's deeplink and stores it; any failure is only
// logged and leaves q.Deeplink empty.
func (s *Service) addDeeplink(ctx context.Context, q *QR) {
	ctx, cancel := context.WithTimeout(ctx, deeplinkTimeout)
	defer cancel()
	link, err := ask(ctx, s, noWait, func(ctx context.Context) (string, error) { return s.api.Deeplink(ctx, q.Payload) })
	if err == nil {
		err = s.store.SetQRDeeplink(ctx, q.ID, link)
	}
	if err != nil {
		s.log.Warn("QR without deeplink", "qr", q.ID, "bill", q.BillNumber, "err", err)
		return
	}
	q.Deeplink = link
}

// cancelCheckTimeout bounds the last look Cancel takes at Bakong.
const cancelCheckTimeout = 10 * time.Second

// Cancel cancels an open invoice (or one in review, which an admin may close)
// and its pending QRs in one transaction, with an EventCancelled for each of
// its QRs (so that each message is shown, and retried, on its own), or one
// for the invoice alone when it has none. A paid
// invoice cannot be cancelled (EConflict); cancelling a cancelled invoice
// returns it unchanged.
//
// Before cancelling, Cancel asks Bakong once about each pending QR, so that
// a payment made just before settles the invoice instead of landing on a
// cancelled one; Cancel then fails with EConflict because the invoice is
// paid. Only the QRs Bakong answered about (not found, failed) are
// cancelled and no longer polled. The others stay pending: the reconciler
// checks them until Bakong answers, as it does any QR, so a payment Bakong
// could not report now is still found (and goes to review, the invoice
// being cancelled), never lost; unpaid, they expire without an event.
func (s *Service) Cancel(ctx context.Context, invoiceID, by int64) (*Invoice, error) {
	inv, err := s.store.Invoice(ctx, invoiceID)
	if err != nil {
		return nil, fmt.Errorf("cancel invoice %d: %w", invoiceID, err)
	}
	switch inv.Status {
	case InvoicePaid:
		return nil, Errorf(EConflict, "invoice %s is already paid: it cannot be cancelled", inv.Number)
	case InvoiceCancelled:
		return inv, nil
	}
	unpaid := s.lastLook(ctx, invoiceID)

	var done bool
	err = s.store.WithTx(ctx, func(st Store) error {
		now := s.clock.Now()
		ok, err := st.SetInvoiceStatus(ctx, invoiceID, []InvoiceStatus{InvoiceOpen, InvoiceReview}, InvoiceCancelled, 0, now)
		if err != nil || !ok {
			return err
		}
		qrs, err := st.ListQRs(ctx, QRFilter{InvoiceID: invoiceID})
		if err != nil {
			return err
		}
		done = true
		detail := fmt.Sprintf("cancelled by %d", by)
		for _, q := range slices.Backward(qrs) { // oldest first
			if q.Status == QRPending && unpaid[q.ID] {
				if _, err := st.SetQRStatus(ctx, q.ID, []QRStatus{QRPending}, QRCancelled, now); err != nil {
					return err
				}
			}
			// One event per QR: each message is shown (and retried) alone.
			if err := st.AddEvent(ctx, &Event{Kind: EventCancelled, InvoiceID: invoiceID, QRID: q.ID, Detail: detail, CreatedAt: now}); err != nil {
				return err
			}
		}
		if len(qrs) > 0 {
			return nil
		}
		return st.AddEvent(ctx, &Event{Kind: EventCancelled, InvoiceID: invoiceID, Detail: detail, CreatedAt: now})
	})
	if err != nil {
		return nil, fmt.Errorf("cancel invoice %s: %w", inv.Number, err)
	}
	if inv, err = s.store.Invoice(ctx, invoiceID); err != nil {
		return nil, fmt.Errorf("cancel invoice %d: %w", invoiceID, err)
	}
	if done {
		s.notify()
		return inv, nil
	}
	if inv.Status == InvoiceCancelled {
		return inv, nil
	}
	return nil, Errorf(EConflict, "invoice %s is %s: it cannot be cancelled", inv.Number, inv.Status)
}

// lastLook checks every pending QR of an invoice once, applies the payments
// it finds, and returns the QRs Bakong reported unpaid (not found, failed).
func (s *Service) lastLook(ctx context.Context, invoiceID int64) map[int64]bool {
	ctx, cancel := context.WithTimeout(ctx, cancelCheckTimeout)
	defer cancel()
	qrs, err := s.store.ListQRs(ctx, QRFilter{InvoiceID: invoiceID, Statuses: []QRStatus{QRPending}})
	if err != nil {
		s.log.Warn("cancel: list pending QRs", "invoice", invoiceID, "err", err)
		return nil
	}
	unpaid := make(map[int64]bool, len(qrs))
	for i := range qrs {
		found, err := ask(ctx, s, noWait, func(ctx context.Context) (*bakong.Transaction, error) { return s.api.CheckMD5(ctx, qrs[i].MD5) })
		switch {
		case errors.Is(err, bakong.ErrNotFound), errors.Is(err, bakong.ErrFailed):
			unpaid[qrs[i].ID] = true
		case err != nil:
			s.log.Warn("cancel: Bakong did not answer; the QR stays polled", "qr", qrs[i].ID, "err", err)
		default:
			if _, err := s.Apply(ctx, &qrs[i], found, SourceCheck); err != nil {
				s.log.Warn("cancel: apply payment", "qr", qrs[i].ID, "err", err)
			}
		}
	}
	return unpaid
}

// CheckQR asks Bakong about one QR now, whatever its status, and applies the
// answer: a found payment is applied (settled, reviewed or flagged), a failed
// transaction fails a pending QR, and "not found" expires a pending QR once
// its grace has passed. It returns the QR as it stands afterwards.
//
// It records the check on a pending QR but keeps the reconciler's schedule.
// When Bakong does not answer, or the request budget has nothing to spare
// (ErrBudget), it returns an EUnavailable error.
func (s *Service) CheckQR(ctx context.Context, qrID int64) (*QR, error) {
	q, err := s.store.QR(ctx, qrID)
	if err != nil {
		return nil, fmt.Errorf("check QR %d: %w", qrID, err)
	}
	return s.checkQR(ctx, q, mayWait)
}

// checkQR is CheckQR of q, read by the caller (CheckStatus has read it
// already); wait says whether to wait for the request budget.
func (s *Service) checkQR(ctx context.Context, q *QR, wait bool) (*QR, error) {
	qrID := q.ID
	var err error
	at := s.clock.Now()
	found, apiErr := ask(ctx, s, wait, func(ctx context.Context) (*bakong.Transaction, error) { return s.api.CheckMD5(ctx, q.MD5) })
	switch {
	case apiErr == nil:
		if _, err := s.Apply(ctx, q, found, SourceCheck); err != nil {
			return nil, fmt.Errorf("check QR %d: %w", qrID, err)
		}
	case errors.Is(apiErr, bakong.ErrNotFound):
		err = s.noteCheck(ctx, q, at, q.NextCheckAt, 0, "")
		if err == nil && s.finalCheck(q, at) {
			err = s.closeQR(ctx, q, QRExpired, EventExpired, at)
		}
	case errors.Is(apiErr, bakong.ErrFailed):
		err = s.closeQR(ctx, q, QRFailed, EventFailed, at)
	case errors.Is(apiErr, ErrBudget):
		return nil, apiErr // Bakong was not asked: nothing to record
	default:
		if q.Status == QRPending {
			err = s.noteCheck(ctx, q, at, q.NextCheckAt, q.CheckFailures+1, apiErr.Error())
		}
		if err == nil {
			return nil, &Error{Code: EUnavailable, Message: "Bakong did not answer about QR " + q.BillNumber, Err: apiErr}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("check QR %d: %w", qrID, err)
	}
	if q, err = s.store.QR(ctx, qrID); err != nil {
		return nil, fmt.Errorf("check QR %d: %w", qrID, err)
	}
	return q, nil
}

// finalCheck reports whether a "not found" asked at `at` is the final answer
// for q: the QR has expired and its grace has passed.
func (s *Service) finalCheck(q *QR, at time.Time) bool {
	return !at.Before(q.ExpiresAt.Add(s.cfg.Grace))
}

// noteCheck records a check of a pending QR.
func (s *Service) noteCheck(ctx context.Context, q *QR, at, next time.Time, failures int, lastErr string) error {
	if q.Status != QRPending {
		return nil
	}
	return s.store.SetQRCheck(ctx, q.ID, at, next, failures, lastErr)
}

// paidLookback is how far back paidQR looks at expired QRs: a payment made
// just before expiry may reach Bakong's records late.
const paidLookback = 24 * time.Hour

// paidQR returns the pending or recently expired QR of found's amount
// whose md5 Bakong reports paid by found, or nil when there is none or
// Bakong cannot tell now (logged: /verify then goes on as before).
func (s *Service) paidQR(ctx context.Context, found *bakong.Transaction) *QR {
	qrs, err := s.store.ListQRs(ctx, QRFilter{
		Amount:   Money{Amount: found.Amount, Currency: Currency(found.Currency)},
		Statuses: []QRStatus{QRPending, QRExpired},
		Since:    s.clock.Now().Add(-paidLookback),
		Limit:    listSize,
	})
	if err != nil || len(qrs) == 0 {
		if err != nil {
			s.log.Warn("verify: list QRs of the amount", "err", err)
		}
		return nil
	}
	res, err := ask(ctx, s, mayWait, func(ctx context.Context) ([]bakong.Result, error) { return s.api.CheckMD5List(ctx, md5s(qrs)) })
	if err != nil {
		s.log.Warn("verify: Bakong could not say which QR was paid", "err", err)
		return nil
	}
	for i, a := range listAnswers(qrs, res, nil) {
		if a.err == nil && a.found != nil && strings.EqualFold(a.found.Hash, found.Hash) {
			return &qrs[i]
		}
	}
	return nil
}

// VerifyShortHash settles an invoice from a customer's receipt: it asks
// Bakong for the transaction with that short hash and the invoice's amount and
// currency, then applies it like a polled payment, with two differences.
//
// First, though, it looks for the QR the customer paid: a pending or
// recently expired QR of that amount, of any invoice, whose md5 Bakong
// reports paid by this very transaction (one md5 list call). A QR of this
// invoice gets the payment (instead of the newest QR). A QR of another
// invoice gets it exactly as polling would have given it (expiry
// included), so a receipt verified against the wrong invoice settles the
// invoice that was really paid; the payment returned then names that
// invoice, which the caller should tell the admin.
//
// The payment is recorded against the invoice's most recent QR (the one the
// customer most likely paid; it becomes paid too if it was pending or
// expired), or against the invoice alone when it has no QR. And the QR's
// expiry is not enforced: the admin vouches for the receipt. Instead the
// payment must not predate the invoice. Receiver, amount and currency are
// checked as always; a mismatch sends the invoice to review.
//
// A receipt already recorded for this invoice returns that payment; one
// recorded for another invoice is an EConflict wrapping ErrRecordedElsewhere,
// and a transaction Bakong reports as failed one wrapping ErrPaymentFailed.
func (s *Service) VerifyShortHash(ctx context.Context, invoiceID int64, shortHash string) (*Payment, error) {
	h := strings.ToLower(strings.TrimSpace(shortHash))
	if !khqr.IsHex(h, 8) {
		return nil, Errorf(EInvalid, "short hash %q: want the 8 hex characters a Bakong receipt shows", shortHash)
	}
	inv, err := s.store.Invoice(ctx, invoiceID)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", h, err)
	}
	found, err := ask(ctx, s, mayWait, func(ctx context.Context) (*bakong.Transaction, error) {
		return s.api.CheckShortHash(ctx, h, inv.Amount.Amount, string(inv.Amount.Currency))
	})
	switch {
	case errors.Is(err, bakong.ErrNotFound):
		return nil, Errorf(ENotFound, "Bakong has no payment %s of %s", h, inv.Amount)
	case errors.Is(err, bakong.ErrFailed):
		return nil, &Error{Code: EConflict, Message: "Bakong says payment " + h + " failed", Err: ErrPaymentFailed}
	case err != nil:
		return nil, &Error{Code: EUnavailable, Message: "Bakong did not answer about payment " + h, Err: err}
	}
	if !strings.HasPrefix(strings.ToLower(found.Hash), h) {
		return nil, Errorf(EUnavailable, "Bakong answered short hash %s with transaction %s", h, found.ShortHash())
	}
	if q := s.paidQR(ctx, found); q != nil {
		if q.InvoiceID == invoiceID { // recorded against the QR really paid, still vouched for
			return s.applyTo(ctx, invoiceID, q.ID, found, SourceVerify)
		}
		// A QR of another invoice: apply it there, as polling would have.
		return s.applyTo(ctx, q.InvoiceID, q.ID, found, SourceCheck)
	}
	var qrID int64
	switch latest, err := s.LatestQR(ctx, invoiceID); {
	case err == nil:
		qrID = latest.ID
	case ErrorCode(err) != ENotFound:
		return nil, fmt.Errorf("verify %s: %w", h, err)
	}
	return s.applyTo(ctx, invoiceID, qrID, found, SourceVerify)
}
