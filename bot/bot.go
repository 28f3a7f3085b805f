// Package bot is khqrbot's Telegram side: commands and buttons for merchants
// and customers, the QR messages with their cards and captions, and the
// outbox consumer that edits those messages when the payment domain reports
// a change. Everything Telegram-specific lives here; the domain (payments)
// knows nothing of it.
//
// It uses github.com/go-telegram/bot v1.19.0 for the wire, with our own
// routing (the library misses "/cmd@bot" and slices UTF-16 offsets as bytes),
// our own retry on 429 (the library never retries) and our own webhook
// endpoint (the library answers 200 to a wrong secret).
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
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
)

// Config is what the bot needs. Token, Service, Store and Bakong are required.
type Config struct {
	Token   string // Telegram bot token; never logged
	APIURL  string // Bot API base URL; "" is https://api.telegram.org
	Service *payments.Service
	Store   payments.Store
	Bakong  payments.Bakong // for /check, which shows the raw answers

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

	DefaultCurrency payments.Currency // when an amount names none; default USD
	Location        *time.Location    // for times shown; default Asia/Phnom_Penh
	Clock           payments.Clock    // default the system clock
	Log             *slog.Logger      // default discards

	PollTimeout    time.Duration // long poll; default 1 minute; below 2s the library busy-polls
	HTTPClient     *http.Client  // for Bot API calls; default one with PollTimeout+30s timeout
	Workers        int           // updates handled at once; default 8
	OutboxInterval time.Duration // how often the outbox is read when nothing wakes it; default 1s

	WebhookURL    string       // set: webhook mode at this public URL; empty: long polling
	WebhookSecret string       // X-Telegram-Bot-Api-Secret-Token; random when empty
	ListenAddr    string       // health endpoint (and webhook) address; empty: no server
	Listener      net.Listener // used instead of ListenAddr when set (tests)
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

	locks chatLocks
	wake  chan struct{} // nudges the outbox consumer
	langs sync.Map      // user id -> language seen in their Telegram language_code
}

// Defaults.
const (
	defaultPollTimeout = time.Minute
	defaultWorkers     = 8
	defaultOutbox      = time.Second
	handlerTimeout     = time.Minute // one update's work, shutdown included
	maxTries           = 4           // of one Bot API call on 429
)

// phnomPenh is Cambodia's time: UTC+7 all year, so a fixed zone is exact
// and needs no tzdata.
var phnomPenh = time.FixedZone("ICT", 7*60*60)

// New checks cfg and prepares the bot; it makes no network call.
func New(cfg Config) (*Bot, error) {
	var missing []string
	if strings.TrimSpace(cfg.Token) == "" {
		missing = append(missing, "Token")
	}
	if cfg.Service == nil {
		missing = append(missing, "Service")
	}
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Bakong == nil {
		missing = append(missing, "Bakong")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bot config: missing %s", strings.Join(missing, ", "))
	}
	if cfg.DefaultCurrency == "" {
		cfg.DefaultCurrency = payments.USD
	}
	if err := cfg.DefaultCurrency.Validate(); err != nil {
		return nil, fmt.Errorf("bot config: default currency: %w", err)
	}
	if cfg.Location == nil {
		cfg.Location = phnomPenh
	}
	if cfg.Clock == nil {
		cfg.Clock = payments.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = defaultPollTimeout
	}
	if cfg.PollTimeout < 2*time.Second {
		return nil, fmt.Errorf("bot config: poll timeout %s: want at least 2s (shorter ones make the library poll in a busy loop)", cfg.PollTimeout)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 30*time.Second}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers
	}
	if cfg.OutboxInterval <= 0 {
		cfg.OutboxInterval = defaultOutbox
	}
	if cfg.WebhookURL != "" && cfg.Listener == nil && cfg.ListenAddr == "" {
		return nil, errors.New("bot config: webhook mode needs ListenAddr (or Listener) to receive updates on")
	}
	if cfg.WebhookURL != "" && cfg.WebhookSecret == "" {
		k := make([]byte, 16)
		rand.Read(k)
		cfg.WebhookSecret = hex.EncodeToString(k)
	}
	b := &Bot{
		cfg:    cfg,
		log:    cfg.Log,
		clock:  cfg.Clock,
		loc:    cfg.Location,
		admins: map[int64]bool{},
		wake:   make(chan struct{}, 1),
	}
	for _, id := range cfg.Admins {
		b.admins[id] = true
	}
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(cfg.PollTimeout, cfg.HTTPClient),
		tgbot.WithDefaultHandler(b.route),
		tgbot.WithMiddlewares(b.guard),
		// Handlers run inside the workers, so Start returns only once the
		// handlers it began are done: that is our graceful drain.
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithWorkers(cfg.Workers),
		tgbot.WithAllowedUpdates(tgbot.AllowedUpdates{"message", "callback_query"}),
		tgbot.WithErrorsHandler(func(err error) { b.log.Warn("telegram updates", "err", err) }),
	}
	if cfg.APIURL != "" {
		opts = append(opts, tgbot.WithServerURL(strings.TrimRight(cfg.APIURL, "/")))
	}
	if cfg.WebhookSecret != "" {
		opts = append(opts, tgbot.WithWebhookSecretToken(cfg.WebhookSecret))
	}
	tg, err := tgbot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	b.tg = tg
	return b, nil
}

// Run takes updates (long polling, or the webhook when WebhookURL is set),
// delivers the outbox and serves /healthz until ctx is done. Then it stops
// taking updates, waits for the handlers it started, and returns; edits not
// yet delivered stay in the outbox for the next run.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.whoAmI(ctx); err != nil {
		return err
	}
	if b.cfg.Started != nil {
		b.cfg.Started(b.username)
	}
	b.setMenus(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before wg.Wait: ends the server and consumer on early returns
	if b.cfg.Listener != nil || b.cfg.ListenAddr != "" {
		ln := b.cfg.Listener
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", b.cfg.ListenAddr); err != nil {
				return fmt.Errorf("listen on %s: %w", b.cfg.ListenAddr, err)
			}
		}
		srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				b.log.Error("http server", "addr", ln.Addr().String(), "err", err)
			}
		})
		// On shutdown, stop taking webhook posts first; handlers then drain.
		wg.Go(func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		})
		b.log.Info("http server", "addr", ln.Addr().String(), "webhook", b.cfg.WebhookURL != "")
	}
	if err := b.setUpdateMode(ctx); err != nil {
		return err
	}

	wg.Go(func() { b.consume(ctx) })
	if b.cfg.WebhookURL != "" {
		b.tg.StartWebhook(ctx)
	} else {
		b.tg.Start(ctx)
	}
	cancel()
	wg.Wait()
	b.log.Info("bot stopped")
	return nil
}

// whoAmI learns the bot's username (commands may be addressed to it), trying
// again while Telegram cannot be reached; a rejected token is final.
func (b *Bot) whoAmI(ctx context.Context) error {
	wait := time.Second
	for {
		me, err := b.tg.GetMe(ctx)
		if err == nil {
			b.username = me.Username
			b.log.Info("telegram bot", "username", me.Username, "id", me.ID)
			return nil
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
			return errors.New("telegram rejected the bot token (getMe answered unauthorized); check TELEGRAM_BOT_TOKEN")
		}
		b.log.Warn("telegram getMe failed; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("telegram getMe: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// setUpdateMode registers the webhook with its secret, or removes any
// webhook so that long polling is allowed.
func (b *Bot) setUpdateMode(ctx context.Context) error {
	if b.cfg.WebhookURL == "" {
		// Not fatal: a Bot API server without webhooks may not know the method,
		// and a webhook really left set shows up as getUpdates conflicts.
		if _, err := b.tg.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
			b.log.Warn("telegram deleteWebhook failed; long polling anyway", "err", err)
		}
		return nil
	}
	_, err := b.tg.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL:            b.cfg.WebhookURL,
		SecretToken:    b.cfg.WebhookSecret,
		AllowedUpdates: []string{"message", "callback_query"},
	})
	if err != nil {
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	return nil
}

// guard gives each handler its own deadline that outlives shutdown (so work
// begun is finished) and turns a panic into a log line.
func (b *Bot) guard(next tgbot.HandlerFunc) tgbot.HandlerFunc {
	return func(ctx context.Context, tg *tgbot.Bot, u *models.Update) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handlerTimeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("handler panic", "update", u.ID, "panic", r, "stack", string(debug.Stack()))
			}
		}()
		next(ctx, tg, u)
	}
}

// route sends each update to its handler.
func (b *Bot) route(ctx context.Context, _ *tgbot.Bot, u *models.Update) {
	switch {
	case u.Message != nil:
		b.onMessage(ctx, u.Message)
	case u.CallbackQuery != nil:
		b.onCallback(ctx, u.CallbackQuery)
	}
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

// printer returns the printer for a Telegram user: their /lang choice, else
// their Telegram language, which is remembered for later messages (edits
// and notices) that have no update to read it from.
func (b *Bot) printer(ctx context.Context, u *models.User) *locales.Printer {
	if u == nil {
		return locales.New(locales.English)
	}
	if usr, err := b.cfg.Store.User(ctx, u.ID); err == nil && locales.Supported(usr.Language) {
		return locales.New(usr.Language)
	}
	lang := locales.Match(u.LanguageCode)
	if prev, ok := b.langs.Load(u.ID); !ok || prev != lang {
		b.langs.Store(u.ID, lang)
		if err := b.cfg.Store.SetSetting(ctx, langKey(u.ID), lang); err != nil {
			b.log.Warn("remember language", "user", u.ID, "err", err)
		}
	}
	return locales.New(lang)
}

// printerOf returns the printer for a user known only by id.
func (b *Bot) printerOf(ctx context.Context, id int64) *locales.Printer {
	if usr, err := b.cfg.Store.User(ctx, id); err == nil && locales.Supported(usr.Language) {
		return locales.New(usr.Language)
	}
	if l, ok := b.langs.Load(id); ok {
		return locales.New(l.(string))
	}
	if l, err := b.cfg.Store.Setting(ctx, langKey(id)); err == nil && l != "" {
		b.langs.Store(id, l)
		return locales.New(l)
	}
	return locales.New(locales.English)
}

func langKey(id int64) string { return "telegram.lang." + strconv.FormatInt(id, 10) }

// chatLocks serializes the calls made to one chat, so edits arrive in order
// and one chat's flood limit does not stall the others.
type chatLocks struct {
	mu    sync.Mutex
	chats map[int64]*chatLock
}

type chatLock struct {
	mu    sync.Mutex
	users int
}

func (l *chatLocks) lock(chat int64) func() {
	l.mu.Lock()
	if l.chats == nil {
		l.chats = map[int64]*chatLock{}
	}
	c := l.chats[chat]
	if c == nil {
		c = &chatLock{}
		l.chats[chat] = c
	}
	c.users++
	l.mu.Unlock()
	c.mu.Lock()
	return func() {
		c.mu.Unlock()
		l.mu.Lock()
		if c.users--; c.users == 0 {
			delete(l.chats, chat)
		}
		l.mu.Unlock()
	}
}

// call makes one Bot API call to chat, serialized with the chat's other
// calls. A 429 waits the retry_after Telegram asks for and tries again; fn
// must build its request afresh each time (upload readers are consumed).
func (b *Bot) call(ctx context.Context, chat int64, fn func(ctx context.Context) error) error {
	unlock := b.locks.lock(chat)
	defer unlock()
	for try := 1; ; try++ {
		err := fn(ctx)
		var tmr *tgbot.TooManyRequestsError
		if err == nil || !errors.As(err, &tmr) || try == maxTries {
			return err
		}
		wait := time.Duration(max(tmr.RetryAfter, 1)) * time.Second
		b.log.Info("telegram flood limit; waiting", "chat", chat, "retry_after", wait, "try", try)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
