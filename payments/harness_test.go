package payments_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/clocktest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/storage"
)

// The acceptance harness: a real SQLite file, the simulator behind a real
// bakong.Client over httptest, and one fake clock shared by all of them.

const (
	shop     = "shop@devb"
	ttl      = 2 * time.Minute
	grace    = 30 * time.Second
	interval = 5 * time.Second
)

var usd5 = payments.Money{Amount: 500, Currency: payments.USD}

type harness struct {
	t    testing.TB
	ctx  context.Context
	clk  *clocktest.Clock
	now  payments.Clock // what the simulator, store and Service read: clk unless withClock
	sim  *sim.Server
	url  string
	tok  string
	path string
	cfg  payments.Config
	rc   payments.ReconcilerConfig
	wait time.Duration // the client's timeout
	*node

	// arrived receives the path of a request as it reaches the simulator
	// (when nobody is waiting, the signal is dropped).
	arrived chan string
}

// node is one "process": its own database handle, client, Service and Reconciler.
type node struct {
	db      *storage.DB
	callLog *payments.CallLog // flush before reading the call log
	api     *bakong.Client
	svc     *payments.Service
	rec     *payments.Reconciler
}

type option func(*harness)

func withReconciler(rc payments.ReconcilerConfig) option {
	return func(h *harness) { h.rc = rc }
}

// withTimeout sets the client's timeout; the default is generous, for loaded machines.
func withTimeout(d time.Duration) option {
	return func(h *harness) { h.wait = d }
}

func withTTL(d time.Duration) option {
	return func(h *harness) { h.cfg.QRTTL = d }
}

// withClock runs the simulator, the store and the Service on c instead of clk.
func withClock(c payments.Clock) option {
	return func(h *harness) { h.now = c }
}

// withDatabase runs the harness on the database at url (a SQLite path or a
// PostgreSQL URL, see internal/pgtest) instead of a new SQLite file.
func withDatabase(url string) option {
	return func(h *harness) { h.path = url }
}

func withMerchant(m payments.Merchant) option {
	return func(h *harness) { h.cfg.Merchant = m }
}

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	clk := clocktest.New(time.Time{})
	h := &harness{
		arrived: make(chan string, 1),
		t:       t,
		ctx:     t.Context(),
		clk:     clk,
		now:     clk,
		path:    filepath.Join(t.TempDir(), "khqrbot.db"),
		// No caps on QRs: the tests of polling issue a hundred QRs for one invoice.
		cfg: payments.Config{Merchant: payments.Merchant{AccountID: shop, Name: "Coffee Shop", City: "Phnom Penh"}, QRTTL: ttl, Grace: grace, Sandbox: true,
			MaxLiveQRs: -1, MaxQRsPerHour: -1},
		rc:   payments.ReconcilerConfig{Interval: interval, MaxRPS: 100, MaxBackoff: time.Minute},
		wait: 5 * time.Second,
	}
	for _, o := range opts {
		o(h)
	}
	h.sim = sim.New(sim.Options{Clock: h.now.Now, Accounts: []string{shop}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case h.arrived <- r.URL.Path:
		default:
		}
		h.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	h.url, h.tok = srv.URL, h.sim.IssueToken("dev@shop.example")
	h.node = h.start()
	return h
}

// start opens another node on the harness's database file.
func (h *harness) start() *node {
	h.t.Helper()
	db, err := storage.Open(h.ctx, h.path, storage.WithClock(h.now))
	if err != nil {
		h.t.Fatalf("open database: %v", err)
	}
	h.t.Cleanup(func() { db.Close() })
	calls := payments.NewCallLog(db, nil)
	h.t.Cleanup(calls.Close)
	api, err := bakong.New(bakong.Options{
		BaseURL:  h.url,
		Tokens:   bakong.StaticToken(h.tok),
		Timeout:  h.wait,
		Observer: calls.Observe,
	})
	if err != nil {
		h.t.Fatalf("bakong client: %v", err)
	}
	svc, err := payments.NewService(db, api, h.now, h.cfg, nil)
	if err != nil {
		h.t.Fatalf("NewService: %v", err)
	}
	return &node{db: db, callLog: calls, api: api, svc: svc, rec: payments.NewReconciler(svc, h.rc)}
}

// invoice creates an open invoice of m.
func (h *harness) invoice(m payments.Money) *payments.Invoice {
	h.t.Helper()
	inv, err := h.svc.CreateInvoice(h.ctx, payments.NewInvoice{Kind: payments.KindPay, Amount: m, Description: "coffee", CreatedBy: 1, ChatID: 10})
	if err != nil {
		h.t.Fatalf("CreateInvoice: %v", err)
	}
	return inv
}

// qr issues a QR for invoice id.
func (h *harness) qr(id int64) *payments.QR {
	h.t.Helper()
	q, err := h.svc.IssueQR(h.ctx, payments.QRRequest{InvoiceID: id, ChatID: 10, UserID: 1})
	if err != nil {
		h.t.Fatalf("IssueQR: %v", err)
	}
	return q
}

// pay pays q in the simulator.
func (h *harness) pay(q *payments.QR, p sim.Payment) *bakong.Transaction {
	h.t.Helper()
	tx, err := h.sim.PayQR(q.Payload, p)
	if err != nil {
		h.t.Fatalf("pay %s: %v", q.BillNumber, err)
	}
	return tx
}

// tick runs one reconciler cycle and fails the test on error.
func (h *harness) tick() {
	h.t.Helper()
	if err := h.rec.Tick(h.ctx); err != nil {
		h.t.Fatalf("Tick at %s: %v", h.clk.Now().Format(time.TimeOnly), err)
	}
}

// ticksUntil advances by interval and ticks until the clock reaches t.
func (h *harness) ticksUntil(t time.Time) {
	h.t.Helper()
	for h.clk.Now().Before(t) {
		h.clk.Advance(min(interval, t.Sub(h.clk.Now())))
		h.tick()
	}
}

func (h *harness) getInvoice(id int64) *payments.Invoice {
	h.t.Helper()
	inv, err := h.db.Invoice(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Invoice(%d): %v", id, err)
	}
	return inv
}

func (h *harness) getQR(id int64) *payments.QR {
	h.t.Helper()
	q, err := h.db.QR(h.ctx, id)
	if err != nil {
		h.t.Fatalf("QR(%d): %v", id, err)
	}
	return q
}

func (h *harness) payments(invoiceID int64) []payments.Payment {
	h.t.Helper()
	ps, err := h.db.ListPayments(h.ctx, payments.PaymentFilter{InvoiceID: invoiceID})
	if err != nil {
		h.t.Fatalf("ListPayments: %v", err)
	}
	return ps
}

// events returns the undelivered events, with the clock far ahead so delayed ones count.
func (h *harness) events() []payments.Event {
	h.t.Helper()
	evs, err := h.db.PendingEvents(h.ctx, h.clk.Now().Add(24*time.Hour), 1000)
	if err != nil {
		h.t.Fatalf("PendingEvents: %v", err)
	}
	return evs
}

// kinds lists the kinds of the undelivered events about invoice id (0: all).
func (h *harness) kinds(id int64) []payments.EventKind {
	var out []payments.EventKind
	for _, e := range h.events() {
		if id == 0 || e.InvoiceID == id {
			out = append(out, e.Kind)
		}
	}
	return out
}

// calls counts the simulator's calls of endpoint since the last reset.
func (h *harness) calls(endpoint string) int {
	n := 0
	for _, c := range h.sim.Calls() {
		if c.Endpoint == endpoint {
			n++
		}
	}
	return n
}

const (
	epMD5     = "check_transaction_by_md5"
	epMD5List = "check_transaction_by_md5_list"
)

// checks counts md5 checks (single and list calls).
func (h *harness) checks() int { return h.calls(epMD5) + h.calls(epMD5List) }

func (h *harness) wantInvoice(id int64, want payments.InvoiceStatus) *payments.Invoice {
	h.t.Helper()
	inv := h.getInvoice(id)
	if inv.Status != want {
		h.t.Fatalf("invoice %s is %s, want %s", inv.Number, inv.Status, want)
	}
	return inv
}

func (h *harness) wantQR(id int64, want payments.QRStatus) *payments.QR {
	h.t.Helper()
	q := h.getQR(id)
	if q.Status != want {
		h.t.Fatalf("QR %s is %s, want %s (last error %q, failures %d)", q.BillNumber, q.Status, want, q.LastError, q.CheckFailures)
	}
	return q
}

func (h *harness) wantKinds(id int64, want ...payments.EventKind) {
	h.t.Helper()
	got := h.kinds(id)
	if !slices.Equal(got, want) {
		h.t.Fatalf("events of invoice %d: %v, want %v", id, got, want)
	}
}

func (h *harness) setFault(endpoint string, f sim.Fault) {
	h.t.Helper()
	if err := h.sim.SetFault(endpoint, f); err != nil {
		h.t.Fatalf("SetFault: %v", err)
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if payments.ErrorCode(err) != code {
		t.Fatalf("error %v (code %q), want code %q", err, payments.ErrorCode(err), code)
	}
}

// waitFor polls cond, for the rare progress that has no signal (a goroutine's
// write after a callback returned).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
