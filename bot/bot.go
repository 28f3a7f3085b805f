// Package bot is khqrbot's Telegram side: commands and buttons for merchants
// and customers, the QR messages with their cards and captions, and the
// outbox consumer that edits those messages when the payment domain reports
// a change. Everything Telegram-specific lives here; the domain (payments)
// knows nothing of it.
//
// The bot reaches the domain through one narrow interface, Payments
// (payments.go), which *payments.Service implements: every use case the bot
// has is listed there, and the bot holds no Store and no Bakong client.
//
// Files follow the path of an update: run.go starts the bot, poller.go
// takes updates by long polling while this replica holds the poller lease
// (web.go takes them from the webhook, and serves /healthz and /metrics),
// inbox.go keeps each in the database until it is handled, whichever
// replica dies, route.go queues each in its chat's lane and routes it
// (command.go parses commands), a file per command group handles it (invoice.go with
// amount.go, pending.go, paid.go, report.go, export.go with csv.go,
// period.go for their spans, check.go, verify.go, cancel.go, token.go,
// start.go, lang.go; press.go and callbackdata.go for buttons),
// qrmessage.go and view.go make the QR message, and send.go, call.go and
// text.go make the Bot API calls within Telegram's limits. outbox.go and notice.go take the domain's
// events back to the chats; menu.go sets the command menus; errors.go
// turns the domain's errors into answers.
//
// It uses github.com/go-telegram/bot v1.19.0 for the wire, with our own
// routing (the library misses "/cmd@bot" and slices UTF-16 offsets as bytes),
// our own retry on 429 (the library never retries), our own long polling
// (the library's cannot be held to a lease, and confirms updates before
// they are stored) and our own webhook endpoint (the library answers 200
// to a wrong secret, and before the update is stored).
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
)

// Config is what the bot needs. Token and Service are required.
type Config struct {
	Token   string   // Telegram bot token; never logged
	APIURL  string   // Bot API base URL; "" is DefaultAPIURL
	Service Payments // the payment domain: a *payments.Service

	Admins       []int64 // Telegram user ids allowed to invoice and administer
	Sandbox      bool    // no real money: mark every QR and offer Simulate payment
	MerchantName string  // drawn on the cards
	// Simulate pays a QR payload in the sandbox simulator; nil outside the sandbox.
	Simulate func(ctx context.Context, payload string) error
	// TokenStatus reports on the Open API token for /token; nil in the sandbox.
	TokenStatus func() bakong.TokenStatus
	// LastTick reports when the reconciler last finished a cycle, for /healthz; optional.
	LastTick func() time.Time
	// Started, when set, is called by Run with the bot's username from getMe,
	// before any update is handled: for set-up that needs the username, such
	// as the deeplinks' sourceInfo (https://t.me/<username>). Optional.
	Started func(username string)

	DefaultCurrency payments.Currency // when an amount names none; default payments.DefaultCurrency
	Location        *time.Location    // for times shown; default payments.Cambodia()
	Clock           payments.Clock    // default the system clock
	Log             *slog.Logger      // default discards

	PollTimeout    time.Duration // long poll; default 1 minute; below 2s the library busy-polls
	HTTPClient     *http.Client  // for Bot API calls; default one with PollTimeout+30s timeout
	Workers        int           // updates handled at once, each chat's in order; default 8
	OutboxInterval time.Duration // how often the outbox is read when nothing wakes it; default 1s

	// Replica names this process among the replicas sharing the database
	// (leases, /healthz, logs); default a random name.
	Replica string

	WebhookURL    string       // set: webhook mode at this public URL; empty: long polling
	WebhookSecret string       // X-Telegram-Bot-Api-Secret-Token; random when empty
	ListenAddr    string       // health endpoint (and webhook, metrics) address; empty: no server
	Metrics       http.Handler // served at /metrics on ListenAddr when set
	Listener      net.Listener // used instead of ListenAddr when set (tests)
	HTTP          HTTPLimits   // bounds of the server on ListenAddr; zero fields take the defaults
}

// HTTPLimits bound the HTTP server on ListenAddr, so that idle or slow
// clients cannot hold it and starve Telegram's webhook posts.
type HTTPLimits struct {
	ReadTimeout  time.Duration // a whole request, body included; default 30s
	WriteTimeout time.Duration // one response; default 30s
	IdleTimeout  time.Duration // a keep-alive connection between requests; default 1 minute
	MaxConns     int           // connections served at once; more wait to be accepted; default 64
}

// Bot is a running Telegram bot. Create it with New and start it with Run.
type Bot struct {
	cfg    Config
	tg     *tgbot.Bot
	log    *slog.Logger
	clock  payments.Clock
	loc    *time.Location
	admins map[int64]bool

	username string // from getMe, set by Run before any update is handled
	apiURL   string // the Bot API base URL, without a trailing slash
	replica  replicaState
	offset   int64 // the last update stored in the inbox; only the poller goroutine uses it
	held     held  // updates this replica claimed in the inbox and has not finished

	locks    chatLocks
	sending  sending       // QR messages not yet linked
	lanes    *lanes        // updates, one chat at a time
	refusals atomic.Uint64 // counts refusals in groups, naming each one's lease holder
	wake     chan struct{} // nudges the outbox consumer
	langs    sync.Map      // user id -> language seen in their Telegram language_code

	badSecrets sampler // wrong webhook secrets, logged once a minute at most
}

// DefaultAPIURL is Telegram's Bot API (TELEGRAM_API_URL).
const DefaultAPIURL = "https://api.telegram.org"

// Defaults.
const (
	defaultPollTimeout = time.Minute
	defaultWorkers     = 8
	defaultOutbox      = time.Second
	handlerTimeout     = time.Minute // one update's work, shutdown included
	maxTries           = 4           // of one Bot API call on 429
	defaultHTTPRead    = 30 * time.Second
	defaultHTTPWrite   = 30 * time.Second
	defaultHTTPIdle    = time.Minute
	// Telegram opens at most 40 webhook connections unless told otherwise
	// (setWebhook's max_connections); the rest is room for health checks
	// and scrapes.
	defaultHTTPConns = 64
)

// check reports what makes c unusable and fills in the defaults of the
// fields left zero.
func (c *Config) check() error {
	var missing []string
	if strings.TrimSpace(c.Token) == "" {
		missing = append(missing, "Token")
	}
	if c.Service == nil {
		missing = append(missing, "Service")
	}
	if len(missing) > 0 {
		return fmt.Errorf("bot config: missing %s", strings.Join(missing, ", "))
	}
	if c.DefaultCurrency == "" {
		c.DefaultCurrency = payments.DefaultCurrency
	}
	if err := c.DefaultCurrency.Validate(); err != nil {
		return fmt.Errorf("bot config: default currency: %w", err)
	}
	if c.Location == nil {
		c.Location = payments.Cambodia()
	}
	if c.Clock == nil {
		c.Clock = payments.SystemClock{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = defaultPollTimeout
	}
	if c.PollTimeout < 2*time.Second {
		return fmt.Errorf("bot config: poll timeout %s: want at least 2s (getUpdates waits 1s less, so shorter ones poll in a busy loop)", c.PollTimeout)
	}
	if p := webhookPath(c.WebhookURL); c.WebhookURL != "" && (p == "/healthz" || (p == "/metrics" && c.Metrics != nil)) {
		return fmt.Errorf("bot config: webhook path %s is taken by the health or metrics endpoint", p)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.PollTimeout + 30*time.Second}
	}
	if c.Workers <= 0 {
		c.Workers = defaultWorkers
	}
	if c.OutboxInterval <= 0 {
		c.OutboxInterval = defaultOutbox
	}
	if c.WebhookURL != "" && c.Listener == nil && c.ListenAddr == "" {
		return errors.New("bot config: webhook mode needs ListenAddr (or Listener) to receive updates on")
	}
	if c.WebhookURL != "" && c.WebhookSecret == "" {
		k := make([]byte, 16)
		rand.Read(k)
		c.WebhookSecret = hex.EncodeToString(k)
	}
	return nil
}

// New checks cfg and prepares the bot; it makes no network call.
func New(cfg Config) (*Bot, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Replica == "" {
		k := make([]byte, 4)
		rand.Read(k)
		cfg.Replica = "replica-" + hex.EncodeToString(k)
	}
	b := &Bot{
		cfg:    cfg,
		log:    cfg.Log,
		clock:  cfg.Clock,
		loc:    cfg.Location,
		admins: map[int64]bool{},
		wake:   make(chan struct{}, 1),
		lanes:  newLanes(cfg.Workers),
		apiURL: trimURL(cfg.APIURL),
	}
	for _, id := range cfg.Admins {
		b.admins[id] = true
	}
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient),
		tgbot.WithDefaultHandler(b.route),
		// inboxed runs in the update's lane, after guard queued it there.
		tgbot.WithMiddlewares(b.guard, b.inboxed),
		// ProcessUpdate runs guard at once, which only queues the update
		// in its chat's lane; Run waits for the lanes once taking updates
		// stops: our graceful drain. The library takes no updates itself
		// (no Start, no WebhookHandler): poller.go and web.go do, through
		// the inbox.
		tgbot.WithNotAsyncHandlers(),
		// The URL the poller calls too: one place fills in Telegram's.
		tgbot.WithServerURL(b.apiURL),
	}
	tg, err := tgbot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	b.tg = tg
	return b, nil
}

// isAdmin reports whether user may invoice and administer. In the sandbox
// with no admins configured, everyone may, so the flow can be tried alone.
func (b *Bot) isAdmin(user int64) bool {
	return b.admins[user] || (b.cfg.Sandbox && len(b.admins) == 0)
}

// nudge wakes the outbox consumer after an action that wrote events.
func (b *Bot) nudge() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}
