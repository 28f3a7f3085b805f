package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/khqrbot/khqrbot/internal/botapi"
	"github.com/khqrbot/khqrbot/internal/demo"
	"github.com/khqrbot/khqrbot/payments"
)

// The demo's bot and people. The token only ever reaches the local Bot
// API server.
var (
	demoBot      = botapi.Bot{Token: "7000000001:khqrbot-demo-local-token", ID: 7000000001, Username: "khqr_demo_bot", FirstName: "khqrbot demo"}
	demoMerchant = demo.Person{ID: 1001, Name: "Dara", Role: "Merchant", Lang: "en"}
	demoCustomer = demo.Person{ID: 2002, Name: "Sokha", Role: "Customer", Lang: "en"}
)

// demoPassThrough are the settings the demo takes from the environment:
// the shop's look and the logs. Everything else is the demo's own, so a
// production environment can never make the demo reach real Telegram,
// real Bakong or a real database.
var demoPassThrough = []string{"MERCHANT_NAME", "MERCHANT_CITY", "DEFAULT_CURRENCY", "LOG_LEVEL", "LOG_FORMAT"}

// runDemo runs the whole product on this machine: a local Bot API server,
// the Bakong simulator, the real bot reaching both over HTTP, and the web
// page that plays a merchant's and a customer's Telegram chats.
func runDemo(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "demo", "[flags]",
		"Runs the whole product on this machine, with no Telegram or Bakong account and no\n"+
			"network: a local Telegram Bot API server, the Bakong simulator, the real bot\n"+
			"reaching both over HTTP, and a web page with a merchant's and a customer's chats.\n"+
			"Open the printed URL in a browser. No real money moves.",
		"Exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 usage error, 3 cannot listen or failed.")
	addr := fs.String("addr", "127.0.0.1:8080", "address of the web page; port 0 picks a free one")
	dbPath := fs.String("db", "", "SQLite file that keeps the demo's invoices across runs (the chats start empty each run); empty: a temporary one, removed on exit")
	ttl := fs.Duration("qr-ttl", 2*time.Minute, "how long a QR can be paid, "+qrTTLRange+"; short, to see QRs expire")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageError(fs, "--addr %q: want host:port, like 127.0.0.1:8080", *addr)
	}
	if *ttl < minQRTTL || *ttl > payments.MaxQRTTL {
		return usageError(fs, "--qr-ttl %s: want %s", *ttl, qrTTLRange)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return cmdError(e, fs, exitError, fmt.Errorf("listen on %s: %w (is another demo running? pick another port with --addr 127.0.0.1:0)", *addr, err))
	}
	defer ln.Close()

	db := *dbPath
	if db == "" {
		dir, err := os.MkdirTemp("", "khqrbot-demo-")
		if err != nil {
			return cmdError(e, fs, exitError, err)
		}
		defer os.RemoveAll(dir)
		db = filepath.Join(dir, "demo.db")
	}
	if err := demoRun(ctx, e, ln, db, *ttl); err != nil {
		return cmdError(e, fs, exitError, err)
	}
	return exitOK
}

// demoRun serves the demo on ln until ctx ends.
func demoRun(ctx context.Context, e *env, ln net.Listener, db string, ttl time.Duration) error {
	// Update ids start from the clock, in milliseconds, so that they never
	// go back, as Telegram's do not: a --db kept from an earlier run holds
	// the ids that run handled, and the bot skips an id it has seen. A run
	// would have to send more than one update a millisecond to reach the
	// next run's first.
	api, err := botapi.New(botapi.Options{Bot: demoBot, FirstUpdateID: time.Now().UnixMilli()})
	if err != nil {
		return err
	}
	defer api.Close()
	apiURL, stopAPI, err := serveLoopback(api)
	if err != nil {
		return fmt.Errorf("local Bot API server: %w", err)
	}
	defer stopAPI()

	cfg, err := demoConfig(e.getenv, apiURL, db, ttl)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg)
	sb, err := startSandbox(cfg.BakongAccountID, log)
	if err != nil {
		return err
	}
	defer sb.stop()

	page, err := demo.New(demo.Options{API: api, Bank: sb.sim, Merchant: demoMerchant, Customer: demoCustomer, Log: log})
	if err != nil {
		return err
	}
	web := &http.Server{
		Handler:           page,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx }, // ends the event streams on Ctrl-C
	}
	served := make(chan error, 1)
	go func() { served <- web.Serve(ln) }()
	fmt.Fprintf(e.stdout, "khqrbot demo: open http://%s in a browser (Ctrl-C stops it)\n", ln.Addr())

	botCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	bot := make(chan error, 1)
	go func() { bot <- serve(botCtx, cfg, log, sb) }()
	select {
	case err = <-bot:
	case err = <-served:
		err = fmt.Errorf("web page: %w", err)
		cancel()
		<-bot
	}
	stop, cancelStop := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelStop()
	_ = web.Shutdown(stop)
	if err != nil && !(errors.Is(err, context.Canceled) && botCtx.Err() != nil) {
		return err
	}
	return nil
}

// demoConfig is the bot's configuration in the demo: the local Bot API
// server at apiURL, sandbox mode, the SQLite file db, the merchant as the
// one admin; only demoPassThrough comes from getenv.
func demoConfig(getenv func(string) string, apiURL, db string, ttl time.Duration) (*config, error) {
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN": demoBot.Token,
		"TELEGRAM_API_URL":   apiURL,
		"DATABASE_URL":       db,
		"ADMIN_IDS":          strconv.FormatInt(demoMerchant.ID, 10),
		"QR_TTL":             ttl.String(),
		"POLL_INTERVAL":      "1s",
	}
	for _, k := range demoPassThrough {
		vars[k] = getenv(k)
	}
	cfg, err := loadConfig(func(k string) string { return vars[k] }, flag.NewFlagSet("demo", flag.ContinueOnError), nil, true)
	if err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// serveLoopback serves h on a free loopback port and returns its URL and a
// function that stops it.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
