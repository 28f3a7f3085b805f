package sim

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// Errors of the Go and control API.
var (
	// ErrUnknownMD5 is a payment or failure of an md5 the simulator has not seen,
	// without the amount, currency and receiver a payment then needs.
	ErrUnknownMD5 = errors.New("sim: md5 not registered")
	// ErrSettled is a second payment or a failure of a dynamic QR already paid or
	// failed: Bakong finds one transaction per md5.
	ErrSettled = errors.New("sim: QR already paid or failed")
)

// Payment is how a simulated payer pays a QR. Zero fields take the QR's values,
// so a zero Payment pays it exactly; set them to pay late, the wrong amount, in
// the wrong currency or to the wrong account.
type Payment struct {
	Amount         int64     // minor units of Currency; 0 = the QR's amount
	Currency       string    // "USD" or "KHR"; "" = the QR's
	ToAccount      string    // "" = the QR's receiver
	FromAccount    string    // "" = a bank's pooled account, as bank apps pay
	CreatedAt      time.Time // when the payer sent it; zero = the clock's now
	Description    string    // "" = none (null on the wire)
	InstructionRef string    // the payer's reference; "" = none, as usual
}

// defaultPayer is what fromAccountId usually holds: the payer bank's pooled account.
const defaultPayer = "abaakhppxxx@abaa"

// qrState is what Bakong knows of one md5.
type qrState struct {
	md5       string
	static    bool
	account   string
	currency  khqr.Currency
	amount    int64
	expiresAt time.Time
	tx        *bakong.Transaction // the payment of a dynamic QR
	failed    bool
}

// decodeQR learns what a payer's app reads from a KHQR: it must carry a valid
// CRC and decode into an account, a currency and, when dynamic, an amount.
func decodeQR(s string) (*qrState, error) {
	if len(s) < 8 || s[len(s)-8:len(s)-4] != "6304" || !strings.EqualFold(khqr.CRC(s[:len(s)-4]), s[len(s)-4:]) {
		return nil, errors.New("KHQR: no valid CRC in tag 63 at the end")
	}
	d, err := khqr.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("decode KHQR: %w", err)
	}
	info, err := d.Info()
	if err != nil {
		return nil, fmt.Errorf("decode KHQR: %w", err)
	}
	if info.AccountID == "" {
		return nil, errors.New("decode KHQR: no Bakong account in tag 29/30")
	}
	return &qrState{
		md5:       khqr.MD5(s),
		static:    info.Amount == 0,
		account:   info.AccountID,
		currency:  info.Currency,
		amount:    info.Amount,
		expiresAt: info.ExpiresAt,
	}, nil
}

// RegisterQR makes a QR known, as a payer's scan does, and returns its md5.
// Its receiver becomes an existing account. Registering twice is harmless.
func (s *Server) RegisterQR(qr string) (string, error) {
	q, err := decodeQR(qr)
	if err != nil {
		return "", fmt.Errorf("register QR: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.register(q)
	return q.md5, nil
}

func (s *Server) register(q *qrState) *qrState {
	if old, found := s.qrs[q.md5]; found {
		return old
	}
	s.qrs[q.md5] = q
	if q.account != "" {
		s.accounts[q.account] = true
	}
	return q
}

// PayQR registers qr if needed and pays it; see PayMD5.
func (s *Server) PayQR(qr string, p Payment) (*bakong.Transaction, error) {
	q, err := decodeQR(qr)
	if err != nil {
		return nil, fmt.Errorf("pay QR: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.pay(s.register(q), p)
	if err != nil {
		return nil, fmt.Errorf("pay QR %s: %w", q.md5, err)
	}
	return t, nil
}

// PayMD5 records a payment of a registered QR and returns a copy of the
// transaction. A dynamic QR is paid once (ErrSettled after); a static QR takes
// any number of payments, each with an amount, which lookups by hash or
// reference find but the md5 never does, as on the real service. An unknown md5
// is accepted when p gives Amount, Currency and ToAccount.
func (s *Server) PayMD5(md5 string, p Payment) (*bakong.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, found := s.qrs[md5]
	if !found {
		if p.Amount == 0 || p.Currency == "" || p.ToAccount == "" {
			return nil, fmt.Errorf("pay md5 %s: %w (give amount, currency and toAccount to pay it anyway)", md5, ErrUnknownMD5)
		}
		q = &qrState{md5: md5, account: p.ToAccount, currency: khqr.Currency(p.Currency), amount: p.Amount}
	}
	t, err := s.pay(q, p)
	if err != nil {
		return nil, fmt.Errorf("pay md5 %s: %w", md5, err)
	}
	s.register(q)
	return t, nil
}

func (s *Server) pay(q *qrState, p Payment) (*bakong.Transaction, error) {
	if !q.static && (q.tx != nil || q.failed) {
		return nil, ErrSettled
	}
	if p.Amount < 0 {
		return nil, fmt.Errorf("amount %d: want zero (the QR's) or more", p.Amount)
	}
	if p.Amount == 0 {
		if q.static {
			return nil, errors.New("a static QR has no amount: give one")
		}
		p.Amount = q.amount
	}
	if p.Currency == "" {
		p.Currency = string(q.currency)
	}
	if err := khqr.Currency(p.Currency).Validate(); err != nil {
		return nil, err
	}
	if p.ToAccount == "" {
		p.ToAccount = q.account
	}
	if p.FromAccount == "" {
		p.FromAccount = defaultPayer
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.clock()
	}
	if p.InstructionRef != "" && s.byInstruction[p.InstructionRef] != nil {
		return nil, fmt.Errorf("instruction ref %q: already used", p.InstructionRef)
	}
	created := p.CreatedAt.UnixMilli()
	t := &bakong.Transaction{
		Hash:               s.newHash(),
		FromAccountID:      p.FromAccount,
		ToAccountID:        p.ToAccount,
		Currency:           p.Currency,
		Amount:             p.Amount,
		Description:        p.Description,
		CreatedDateMs:      created,
		AcknowledgedDateMs: created + time.Second.Milliseconds(),
		InstructionRef:     p.InstructionRef,
	}
	t.ExternalRef = s.newExternalRef()
	s.byHash[t.Hash] = t
	s.byShort[t.Hash[:8]] = t
	s.byExternal[t.ExternalRef] = t
	if t.InstructionRef != "" {
		s.byInstruction[t.InstructionRef] = t
	}
	s.accounts[t.ToAccountID] = true
	if !q.static {
		q.tx = t
	}
	c := *t
	return &c, nil
}

// Fail records the QR with this md5 as failed: lookups answer errorCode 3 and
// list items FAILED. The md5 need not be registered; ErrSettled if it was
// paid or failed already.
func (s *Server) Fail(md5 string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.register(&qrState{md5: md5})
	if q.static {
		return fmt.Errorf("fail md5 %s: a static QR has no transaction of its own", md5)
	}
	if q.tx != nil || q.failed {
		return fmt.Errorf("fail md5 %s: %w", md5, ErrSettled)
	}
	q.failed = true
	return nil
}

// newHash returns a fresh 64-hex transaction hash whose first 8 characters
// (the short hash) are unique too.
func (s *Server) newHash() string {
	for {
		b := s.fresh()
		if h := hex.EncodeToString(b[:]); s.byShort[h[:8]] == nil {
			return h
		}
	}
}

// newExternalRef returns a unique payer-bank reference like 100FT38906478429.
func (s *Server) newExternalRef() string {
	for {
		b := s.fresh()
		ref := fmt.Sprintf("100FT%011d", binary.BigEndian.Uint64(b[:])%100_000_000_000)
		if s.byExternal[ref] == nil {
			return ref
		}
	}
}

// lookupMD5 answers a single check for an md5.
func (s *Server) lookupMD5(md5 string) (*bakong.Transaction, bakong.ItemStatus) {
	q, found := s.qrs[md5]
	switch {
	case !found:
		return nil, bakong.ItemNotFound
	case q.static:
		return nil, bakong.ItemStaticQR
	case q.failed:
		return nil, bakong.ItemFailed
	case q.tx != nil:
		return q.tx, bakong.ItemSuccess
	}
	return nil, bakong.ItemNotFound
}
