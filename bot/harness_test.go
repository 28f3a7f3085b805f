package bot_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/bot"
	"github.com/khqrbot/khqrbot/internal/clocktest"
	"github.com/khqrbot/khqrbot/internal/qrtest"
	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/storage"
)

// Test identities.
const (
	merchantAccount = "testshop@abaa"
	admin           = int64(100) // ADMIN_IDS
	customer        = int64(200)
	stranger        = int64(300)
	group           = int64(-500)
	pollInterval    = 200 * time.Millisecond
	// waitLong bounds WaitFor, never a sleep. It only catches a hang: a
	// healthy step on a loaded machine (-race, two shared cores) must never
	// reach it.
	waitLong = time.Minute
)

// options shape one harness.
type options struct {
	fakeClock  bool      // a clocktest.Clock instead of the system clock
	start      time.Time // the fake clock's start; default now
	noPolling  bool      // do not run the reconciler: the test calls Tick
	admins     []int64   // default {admin}
	webhook    bool      // webhook mode on a loopback listener
	secret     string    // webhook secret
	grace      time.Duration
	noSimulate bool
	http       bot.HTTPLimits // of the webhook listener
	merchant   string         // MERCHANT_NAME; default "Test Shop"
	// beforeLink, when set, runs before the bot links a message to its QR:
	// the message is in the chat, the link not yet stored.
	beforeLink func(q *payments.QR)
	// progressed, when set, runs after the bot recorded a step of an
	// event's delivery.
	progressed func(id int64, done payments.Progress)
	// delivered, when set, is how the bot marks an event delivered: mark
	// marks it, and the test may fail the marking instead.
	delivered func(id int64, mark func() error) error
	// wrap, when set, wraps the Service the harness's own bot sees.
	wrap func(bot.Payments) bot.Payments
}

// harness is the whole bot, built from the real pieces: the fake Bot API,
// the Bakong simulator behind the real client, a SQLite file, the Service,
// the Reconciler and the Bot. stop and start again make a restart on the
// same database and the same fake Telegram.
type harness struct {
	t     *testing.T
	o     options
	tg    *telegramtest.Server
	sim   *sim.Server
	api   *bakong.Client
	db    string
	clock payments.Clock
	fake  *clocktest.Clock
	logs  *syncBuffer
	// linked receives a value each time the bot links a message to its QR.
	linked chan struct{}

	store *storage.DB
	svc   *payments.Service
	rec   *payments.Reconciler
	bot   *bot.Bot
	addr  string // webhook listener
	stop  func()
	// cut cancels the running bot's context, as a shutdown begins, without
	// waiting for it to stop (stop does).
	cut context.CancelFunc
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	if o.admins == nil {
		o.admins = []int64{admin}
	}
	if o.merchant == "" {
		o.merchant = "Test Shop"
	}
	h := &harness{t: t, o: o, tg: telegramtest.New(t), db: filepath.Join(t.TempDir(), "khqrbot.db"), logs: &syncBuffer{}, linked: make(chan struct{}, 1)}
	h.clock = payments.SystemClock{}
	if o.fakeClock {
		start := o.start
		if start.IsZero() {
			start = time.Now().Truncate(time.Second)
		}
		h.fake = clocktest.New(start)
		h.clock = h.fake
	}
	h.sim = sim.New(sim.Options{Clock: h.clock.Now, Accounts: []string{merchantAccount}})
	srv := httptest.NewServer(h.sim)
	t.Cleanup(srv.Close)
	api, err := bakong.New(bakong.Options{BaseURL: srv.URL, Tokens: bakong.StaticToken(h.sim.IssueToken("shop@example.com"))})
	if err != nil {
		t.Fatal(err)
	}
	h.api = api
	t.Cleanup(func() {
		h.shutdown()
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs.String())
		}
	})
	h.start()
	return h
}

// start runs a fresh Store, Service, Reconciler and Bot on the harness's
// database and fake Telegram.
func (h *harness) start() {
	h.t.Helper()
	r := h.launch(h.o.wrap)
	h.store, h.svc, h.rec, h.bot, h.addr, h.stop, h.cut = r.store, r.svc, r.rec, r.bot, r.addr, r.stop, r.cut
}

// replica is one running bot of the harness, as one `khqrbot run` process
// is: its own Store, Service, Reconciler and Bot on the harness's
// database and fake Telegram.
type replica struct {
	store *storage.DB
	svc   *payments.Service
	rec   *payments.Reconciler
	bot   *bot.Bot
	addr  string             // webhook listener
	stop  func()             // as SIGTERM does; waits for the bot to stop
	cut   context.CancelFunc // begins stop, without waiting
}

// launch starts a replica. wrap, when set, wraps the Service the bot sees.
// The harness's options shape it; each webhook replica listens on an
// address of its own.
func (h *harness) launch(wrap func(bot.Payments) bot.Payments) *replica {
	t := h.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := storage.Open(ctx, h.db, storage.WithClock(h.clock))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payments.NewService(store, h.api, h.clock, payments.Config{
		Merchant: payments.Merchant{AccountID: merchantAccount, Name: h.o.merchant, City: "Phnom Penh"},
		QRTTL:    5 * time.Minute, Grace: h.o.grace, Sandbox: true,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	rec := payments.NewReconciler(svc, payments.ReconcilerConfig{Interval: pollInterval, MaxRPS: 100})
	var service bot.Payments = linkSignal{svc, h.linked, h.o.beforeLink, h.o.progressed, h.o.delivered}
	if wrap != nil {
		service = wrap(service)
	}
	r := &replica{store: store, svc: svc, rec: rec}
	cfg := bot.Config{
		Token: h.tg.Token(), APIURL: h.tg.URL(),
		Service: service,
		Admins:  h.o.admins, Sandbox: true, MerchantName: h.o.merchant,
		Clock: h.clock, Log: log,
		PollTimeout: 3 * time.Second, OutboxInterval: pollInterval,
	}
	if h.o.fakeClock {
		// Only the Service's wake-up drives the outbox, so an edit seen after
		// a Tick was caused by that Tick, not by a timer running on real time.
		cfg.OutboxInterval = time.Hour
	}
	if !h.o.noSimulate {
		cfg.Simulate = func(_ context.Context, payload string) error {
			_, err := h.sim.PayQR(payload, sim.Payment{})
			return err
		}
	}
	if h.o.webhook {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.addr = ln.Addr().String()
		cfg.Listener, cfg.WebhookURL, cfg.WebhookSecret = ln, "http://"+r.addr+"/telegram/hook", h.o.secret
		cfg.HTTP = h.o.http
	}
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.Run(ctx); err != nil {
			t.Errorf("bot run: %v", err)
		}
	})
	if !h.o.noPolling {
		wg.Go(func() { rec.Run(ctx) })
	}
	r.bot, r.cut = b, cancel
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			store.Close()
		})
	}
	return r
}

// shutdown stops the running bot, as SIGTERM does.
func (h *harness) shutdown() {
	if h.stop != nil {
		h.stop()
	}
}

// waitFor fails the test unless cond holds within waitLong.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	if !h.tg.WaitFor(waitLong, cond) {
		h.t.Fatalf("timed out waiting for %s", what)
	}
}

// poll runs the reconciler as Run would, but on the fake clock: each cycle
// moves the clock one poll interval and ticks once. It stops after the
// first cycle after which done holds, and returns the number of cycles run,
// or max+1 when done still fails after max cycles. Progress is counted in
// poll intervals, never in wall time.
func (h *harness) poll(max int, done func() bool) int {
	h.t.Helper()
	for n := 1; n <= max; n++ {
		h.fake.Advance(pollInterval)
		if err := h.rec.Tick(context.Background()); err != nil {
			h.t.Fatalf("tick %d: %v", n, err)
		}
		if done() {
			return n
		}
	}
	return max + 1
}

// invoiceStatus returns the stored status of the invoice numbered number.
func (h *harness) invoiceStatus(number string) payments.InvoiceStatus {
	h.t.Helper()
	inv, err := h.store.InvoiceByNumber(context.Background(), number)
	if err != nil {
		h.t.Fatalf("invoice %s: %v", number, err)
	}
	return inv.Status
}

// botMessages returns the bot's messages in chat.
func (h *harness) botMessages(chat int64) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range h.tg.Messages(chat) {
		if m.FromBot {
			out = append(out, m)
		}
	}
	return out
}

// waitPhoto waits for the n-th (from 1) photo the bot sends to chat, and
// for the bot to link it to its QR.
func (h *harness) waitPhoto(chat int64, n int) telegramtest.Message {
	h.t.Helper()
	m := h.waitNthPhoto(chat, n)
	h.waitLinked(chat, m.ID)
	return m
}

// waitNthPhoto waits for the n-th (from 1) photo the bot sends to chat.
func (h *harness) waitNthPhoto(chat int64, n int) telegramtest.Message {
	h.t.Helper()
	var m telegramtest.Message
	h.waitFor("photo", func() bool {
		k := 0
		for _, x := range h.botMessages(chat) {
			if x.PhotoFileID != "" {
				if k++; k == n {
					m = x
					return true
				}
			}
		}
		return false
	})
	return m
}

// waitLinked waits until the bot has recorded which QR message id of chat
// shows. It does so just after Telegram accepted the photo, so a test that
// acts on a QR right after seeing its photo must wait for this too, or the
// outbox may find no message to edit and send a fresh one.
func (h *harness) waitLinked(chat int64, id int) {
	h.t.Helper()
	t := time.NewTimer(waitLong)
	defer t.Stop()
	for !h.isLinked(chat, id) {
		select {
		case <-h.linked:
		case <-t.C:
			h.t.Fatalf("message %d of chat %d was never linked to its QR", id, chat)
		}
	}
}

func (h *harness) isLinked(chat int64, id int) bool {
	ctx := context.Background()
	qrs, err := h.store.ListQRs(ctx, payments.QRFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, q := range qrs {
		if m, err := h.store.MessageByQR(ctx, q.ID); err == nil && m.ChatID == chat && m.MessageID == id {
			return true
		}
	}
	return false
}

// linkSignal is the bot's Service; it also signals each message linked to a
// QR, a step the fake Telegram cannot see, and lets a test watch or fail
// the outbox's records.
type linkSignal struct {
	domain     // embedded under another name: Payments is also one of its methods
	linked     chan struct{}
	before     func(q *payments.QR)
	progressed func(id int64, done payments.Progress)
	delivered  func(id int64, mark func() error) error
}

func (s linkSignal) Progress(ctx context.Context, id int64, done payments.Progress) error {
	err := s.domain.Progress(ctx, id, done)
	if err == nil && s.progressed != nil {
		s.progressed(id, done)
	}
	return err
}

func (s linkSignal) Delivered(ctx context.Context, id int64) error {
	mark := func() error { return s.domain.Delivered(ctx, id) }
	if s.delivered != nil {
		return s.delivered(id, mark)
	}
	return mark()
}

type domain = bot.Payments

func (s linkSignal) LinkMessage(ctx context.Context, q *payments.QR, messageID int) error {
	if s.before != nil {
		s.before(q)
	}
	err := s.domain.LinkMessage(ctx, q, messageID)
	select {
	case s.linked <- struct{}{}:
	default:
	}
	return err
}

// waitText waits for a bot text message in chat that contains s.
func (h *harness) waitText(chat int64, s string) telegramtest.Message {
	h.t.Helper()
	var m telegramtest.Message
	h.waitFor("a message with "+s, func() bool {
		for _, x := range h.botMessages(chat) {
			if x.Text != "" && strings.Contains(x.Text, s) {
				m = x
				return true
			}
		}
		return false
	})
	return m
}

// waitCaption waits until message id of chat has a caption containing s.
func (h *harness) waitCaption(chat int64, id int, s string) telegramtest.Message {
	h.t.Helper()
	var m telegramtest.Message
	h.waitFor("caption "+s, func() bool {
		var ok bool
		m, ok = h.tg.Message(chat, id)
		return ok && strings.Contains(m.Caption, s)
	})
	return m
}

// press presses a button and waits for its answer.
func (h *harness) press(chat, user int64, msg int, data string, opts ...telegramtest.Option) telegramtest.Answer {
	h.t.Helper()
	id := h.tg.PressButton(chat, user, msg, data, opts...)
	var a telegramtest.Answer
	h.waitFor("answer to "+data, func() bool {
		var ok bool
		a, ok = h.tg.AnswerOf(id)
		return ok
	})
	return a
}

// button returns the callback data of the button whose text contains s.
func button(t *testing.T, m telegramtest.Message, s string) string {
	t.Helper()
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, s) {
			return b.CallbackData
		}
	}
	t.Fatalf("message %d has no %q button; buttons %+v", m.ID, s, m.Buttons())
	return ""
}

func hasButton(m telegramtest.Message, s string) bool {
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, s) {
			return true
		}
	}
	return false
}

// scanQR reads the QR in a photo with a reader independent of our encoder.
func scanQR(t *testing.T, png []byte) string {
	t.Helper()
	s, err := qrtest.Read(png)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
