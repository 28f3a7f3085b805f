package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/khqrbot/khqrbot/bot"
	"github.com/khqrbot/khqrbot/metrics"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/storage"
)

// runBot runs the bot until ctx ends (SIGINT, SIGTERM): the store, the Open
// API client (or the built-in simulator in sandbox mode), the payment
// service, its reconciler, and the Telegram bot with its outbox consumer
// and health endpoint. On shutdown it stops taking updates, lets running
// handlers finish, and leaves undelivered edits in the outbox for the next run.
func runBot(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		printConfigUsage(fs, "Runs the bot until Ctrl-C or SIGTERM. With no BAKONG_TOKEN it runs in sandbox\n"+
			"mode, on the built-in Bakong simulator: no real money moves.\n\n"+
			"Exit codes: 0 stopped cleanly, 2 configuration error, 3 failed.")
	}
	cfg, err := loadConfig(e.getenv, fs, args, true)
	if err != nil {
		return exitConfig(e.stderr, err)
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	log := newLogger(e.stderr, cfg)
	err = serve(ctx, cfg, log, nil)
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		// Stopped by a signal before it was up (say, during getMe retries).
		log.Info("khqrbot stopped before it started", "reason", err)
	case err != nil:
		log.Error("khqrbot stopped", "err", err)
		return exitError
	}
	return exitOK
}

// serve wires the pieces together and runs them until ctx ends. In sandbox
// mode the bot pays its QRs on sb, the simulator its caller runs (the demo
// plays the payer's bank on it), or with sb nil on one serve starts.
func serve(ctx context.Context, cfg *config, log *slog.Logger, sb *builtinSim) error {
	ln, mln, err := bind(cfg)
	if err != nil {
		return err
	}
	defer closeListener(ln) // the servers close them too; this covers a failed start
	defer closeListener(mln)
	store, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := claimMode(ctx, store, cfg); err != nil {
		return err
	}
	replica := processName()
	log = log.With("replica", replica)

	met := metrics.New(metrics.Options{Replica: replicaName(), Version: buildVersion(), Log: log})
	bc := botConfig(cfg, met, log)
	bc.Replica, bc.Listener = replica, ln
	calls := payments.NewCallLog(store, log)
	defer calls.Close() // before the store closes: writes the last calls
	opts := bakong.Options{
		BaseURL:   cfg.BakongAPIURL,
		ProxyURL:  cfg.BakongProxyURL,
		UserAgent: bakong.UserAgent(buildVersion()),
		Observer:  metrics.Observers(calls.Observe, met.BakongCall),
	}
	// The service comes first: the token's renewal takes its lease. Its
	// links get their client from openAPI before anything runs.
	links := &bakong.Deeplinker{}
	svc, rec, err := newDomain(cfg, store, links, met, log)
	if err != nil {
		return err
	}
	bc.Service, bc.LastTick = svc, rec.LastTick
	oa, err := openAPI(ctx, cfg, opts, store, renewLock{leases: svc, replica: replica}, sb, log)
	if err != nil {
		return err
	}
	defer oa.stop()
	links.Client = oa.client
	bc.Simulate, bc.TokenStatus = oa.simulate, oa.tokenStatus
	if oa.tokenStatus != nil {
		met.WatchToken(func() time.Time { return oa.tokenStatus().ExpiresAt })
	}
	bc.Started = func(username string) { sourceDeeplinks(cfg, links, oa.opts, username, log) }

	b, err := bot.New(bc)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if mln != nil {
		defer serveMetrics(mln, met.Handler(), log).Close()
	}
	wg.Go(func() {
		if err := rec.Run(ctx); err != nil {
			log.Error("reconciler", "err", err)
		}
	})
	if bc.TokenStatus != nil { // live mode: warn admins of a token nothing will renew
		wg.Go(func() { svc.WatchToken(ctx, time.Hour, bc.TokenStatus) })
	}
	log.Info("khqrbot running", "sandbox", cfg.Sandbox, "webhook", cfg.WebhookURL != "", "poll_interval", cfg.PollInterval)
	err = b.Run(ctx)
	cancel()
	wg.Wait()
	if err != nil {
		return err
	}
	log.Info("khqrbot stopped cleanly")
	return nil
}

// replicaName names this process in metrics (the "replica" label): the
// host's name, which tells replicas on different machines (or containers)
// apart and stays the same across restarts.
func replicaName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "default"
}

// processName names this process among the replicas sharing the database,
// in leases, /healthz and logs: unique even with several on one host, as
// replicaName (stable across restarts, for metrics) is not.
func processName() string { return processNameOf(os.Getpid()) }

// processNameOf is the processName of the khqrbot process pid on this host.
func processNameOf(pid int) string { return fmt.Sprintf("%s-%d", replicaName(), pid) }

// renewLock is the Open API token's renewal lease in the database, so that
// the deployment renews the token once and every replica takes it from
// the database.
type renewLock struct {
	leases  *payments.Service
	replica string
}

// renewFor bounds one renewal: the renew_token call and saving its token.
const renewFor = 2 * time.Minute

// TryLockRenewal takes the renewal lease if no other replica holds it.
func (l renewLock) TryLockRenewal(ctx context.Context) (func(), bool, error) {
	if _, ok, err := l.leases.AcquireLease(ctx, payments.TokenLease, l.replica, renewFor); err != nil || !ok {
		return nil, false, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		l.leases.ReleaseLease(ctx, payments.TokenLease, l.replica) // an unreleased lease expires
	}, true, nil
}

// newDomain makes the payment service on store and links, and its
// reconciler, drawing from the deployment's Bakong budget in the database.
func newDomain(cfg *config, store *storage.DB, links payments.Bakong, met *metrics.Metrics, log *slog.Logger) (*payments.Service, *payments.Reconciler, error) {
	svc, err := payments.NewService(store, links, payments.SystemClock{}, payments.Config{
		Merchant: payments.Merchant{
			AccountID: cfg.BakongAccountID, Name: cfg.MerchantName, City: cfg.MerchantCity,
			MerchantID: cfg.MerchantID, AcquiringBank: cfg.AcquiringBank,
		},
		QRTTL:    cfg.QRTTL,
		Sandbox:  cfg.Sandbox,
		Observer: met,
	}, log)
	if err != nil {
		return nil, nil, fmt.Errorf("payments service: %w", err)
	}
	met.CountBacklog(svc.Backlog)
	rec := payments.NewReconciler(svc, payments.ReconcilerConfig{
		Interval: cfg.PollInterval, MaxRPS: cfg.BakongMaxRPS,
		// BAKONG_MAX_RPS is the deployment's: replicas draw from one budget in the database.
		Budget:   payments.StoreBudget(store, payments.BudgetName, cfg.BakongMaxRPS),
		Observer: met,
	})
	return svc, rec, nil
}

// botConfig is the bot's configuration from cfg; serve adds the domain
// and what depends on the Open API client.
func botConfig(cfg *config, met *metrics.Metrics, log *slog.Logger) bot.Config {
	bc := bot.Config{
		Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL,
		Admins: cfg.AdminIDs, Sandbox: cfg.Sandbox, MerchantName: cfg.MerchantName,
		DefaultCurrency: cfg.DefaultCurrency, Log: log,
		PollTimeout: time.Minute, HTTPClient: &http.Client{Timeout: 90 * time.Second, Transport: met.Transport(nil)},
		WebhookURL: cfg.WebhookURL, WebhookSecret: cfg.WebhookSecret, ListenAddr: cfg.ListenAddr,
	}
	if cfg.MetricsAddr == "" {
		bc.Metrics = met.Handler() // on LISTEN_ADDR beside /healthz
	}
	return bc
}

// openAPIClient is the Open API client serve runs on, with what the bot
// needs to know of it.
type openAPIClient struct {
	client      *bakong.Client
	opts        bakong.Options                                  // client's: on the simulator in sandbox mode
	simulate    func(ctx context.Context, payload string) error // sandbox only
	tokenStatus func() bakong.TokenStatus                       // live only
	stop        func()
}

// openAPI makes the Open API client: on the sandbox simulator sb (one of
// its own when sb is nil), or on Bakong with the token kept renewed.
func openAPI(ctx context.Context, cfg *config, opts bakong.Options, store *storage.DB, lock bakong.RenewLock, sb *builtinSim, log *slog.Logger) (*openAPIClient, error) {
	oa := &openAPIClient{stop: func() {}}
	if cfg.Sandbox {
		if sb == nil {
			var err error
			if sb, err = startSandbox(cfg.BakongAccountID, log); err != nil {
				return nil, err
			}
			oa.stop = sb.stop
		}
		opts.BaseURL, opts.ProxyURL, opts.Tokens = sb.url, "", bakong.StaticToken(sb.token)
		api, err := bakong.New(opts)
		if err != nil {
			oa.stop()
			return nil, fmt.Errorf("bakong client: %w", err)
		}
		oa.client, oa.opts, oa.simulate = api, opts, sb.pay
		log.Warn("sandbox mode: no BAKONG_TOKEN, so QRs are paid with the built-in simulator; no real money moves", "simulator", sb.url)
		return oa, nil
	}
	base, err := bakong.New(opts)
	if err != nil {
		return nil, fmt.Errorf("bakong client: %w", err)
	}
	tm, err := bakong.NewTokenManager(ctx, bakong.TokenConfig{
		Token: cfg.BakongToken, Email: cfg.BakongEmail, Store: store, Renewer: base, Lock: lock,
	})
	if err != nil {
		return nil, err
	}
	oa.client, oa.opts, oa.tokenStatus = base.WithTokens(tm), opts, tm.Status
	if st := tm.Status(); !st.ExpiresAt.IsZero() {
		log.Info("bakong token", "expires", st.ExpiresAt.Format(time.DateOnly), "days_left", st.DaysLeft, "renewable", st.Renewable)
	}
	return oa, nil
}

// sourceDeeplinks makes links carry sourceInfo once the bot knows its
// username (see sourceInfo), or logs why they cannot.
func sourceDeeplinks(cfg *config, links *bakong.Deeplinker, opts bakong.Options, username string, log *slog.Logger) {
	si := sourceInfo(cfg, username)
	if si == nil {
		log.Info("deeplinks carry no sourceInfo; set DEEPLINK_ICON_URL so the bank app shows the shop and returns to the bot after payment")
		return
	}
	if err := links.UseSource(opts, si); err != nil {
		log.Warn("deeplinks carry no sourceInfo", "err", err)
		return
	}
	log.Info("deeplinks carry sourceInfo", "app_name", si.AppName, "callback", si.AppDeepLinkCallback)
}

// bind binds LISTEN_ADDR and METRICS_ADDR (nil for one not set), first
// of all: a port in use stops the start before anything runs, and no
// listener of ours (the sandbox simulator's, on a port the system picks)
// can take one in between.
func bind(cfg *config) (ln, mln net.Listener, err error) {
	if ln, err = listen(cfg.ListenAddr, "LISTEN_ADDR"); err != nil {
		return nil, nil, err
	}
	if mln, err = listen(cfg.MetricsAddr, "METRICS_ADDR"); err != nil {
		closeListener(ln)
		return nil, nil, err
	}
	return ln, mln, nil
}

// listen binds addr, the setting called name; no address, no listener.
func listen(addr, name string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, name, err)
	}
	return ln, nil
}

// closeListener closes ln, if any.
func closeListener(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// serveMetrics serves /metrics alone on ln (METRICS_ADDR), until the
// returned server is closed.
func serveMetrics(ln net.Listener, h http.Handler, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv, ln := bot.HTTPLimits{}.Server(mux, ln)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("metrics served", "url", "http://"+ln.Addr().String()+"/metrics")
	return srv
}

// sourceInfo is what generate_deeplink_by_qr tells the customer's bank app
// about us: MERCHANT_NAME, DEEPLINK_ICON_URL, and the bot's chat
// (https://t.me/<username>) to return to after paying. The API refuses a
// sourceInfo that lacks any of the three, and khqrbot has no icon of its own
// to offer, so without DEEPLINK_ICON_URL (or a username) sourceInfo is nil
// and deeplinks go without one, as those of NBC's own SDK do when its caller
// gives none.
func sourceInfo(cfg *config, username string) *bakong.SourceInfo {
	if cfg.DeeplinkIconURL == "" || username == "" {
		return nil
	}
	return &bakong.SourceInfo{AppIconURL: cfg.DeeplinkIconURL, AppName: cfg.MerchantName, AppDeepLinkCallback: "https://t.me/" + username}
}

// builtinSim is the Bakong simulator served in-process on a loopback port.
type builtinSim struct {
	url, token string
	sim        *sim.Server
	srv        *http.Server
}

// startSandbox serves a simulator that knows the merchant's account and
// issues a token for it.
func startSandbox(account string, log *slog.Logger) (*builtinSim, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox simulator: %w", err)
	}
	s := sim.New(sim.Options{Accounts: []string{account}})
	sb := &builtinSim{
		url:   "http://" + ln.Addr().String(),
		token: s.IssueToken("sandbox@khqrbot.local"),
		sim:   s,
		srv:   &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
	}
	go func() {
		if err := sb.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("sandbox simulator", "err", err)
		}
	}()
	return sb, nil
}

// pay pays a QR in full, as a customer's banking app would.
func (sb *builtinSim) pay(_ context.Context, payload string) error {
	_, err := sb.sim.PayQR(payload, sim.Payment{})
	return err
}

func (sb *builtinSim) stop() { sb.srv.Close() }
