package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// runSim serves the Bakong Open API simulator until ctx ends, printing its
// URL and a ready token as KEY=VALUE lines a shell or an env file can use.
func runSim(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "sim", "[flags]",
		"Runs the Bakong Open API simulator: the /v1/ endpoints, and the control API under\n"+
			"/_sim/ (register, pay, fail, calls, faults, token, codes) to play the payer and\n"+
			"inject trouble. Prints BAKONG_API_URL and BAKONG_TOKEN, then serves until Ctrl-C.",
		"Exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 usage error, 3 cannot listen or serve.")
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on; port 0 picks a free one")
	lifetime := lifetimeFlag(sim.DefaultTokenLifetime)
	fs.Var(&lifetime, "token-lifetime", "lifetime of the tokens it issues, like 90d, 36h or 5m")
	var accounts accountsFlag
	fs.Var(&accounts, "account", "a Bakong account that exists, name@bank (repeat for more)")
	email := fs.String("email", "merchant@example.com", "email registered for renew_token; the printed token is its")
	revoke := fs.Bool("renew-invalidates-old", false, "renew_token revokes the email's older tokens")
	quiet := fs.Bool("quiet", false, "do not log each call on stderr")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageError(fs, "--addr %q: want host:port, like 127.0.0.1:8089", *addr)
	}
	opts := sim.Options{
		TokenLifetime:       time.Duration(lifetime),
		Accounts:            accounts,
		RenewInvalidatesOld: *revoke,
	}
	if !*quiet {
		opts.Log = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	s := sim.New(opts)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return cmdError(e, fs, exitError, fmt.Errorf("listen: %w", err))
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "# Bakong simulator on %s (Ctrl-C stops it)\nBAKONG_API_URL=%s\nBAKONG_TOKEN=%s\nBAKONG_EMAIL=%s\n",
		url, url, s.IssueToken(*email), *email)
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return cmdError(e, fs, exitError, fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil {
		return cmdError(e, fs, exitError, fmt.Errorf("shutdown: %w", err))
	}
	return exitOK
}

// lifetimeFlag is a duration that also takes days ("90d").
type lifetimeFlag time.Duration

// String writes whole days as "90d", anything else as a duration.
func (f *lifetimeFlag) String() string {
	d := time.Duration(*f)
	if d%(24*time.Hour) == 0 && d > 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// Set reads days ("90d") or a duration ("36h"), more than zero.
func (f *lifetimeFlag) Set(s string) error {
	var d time.Duration
	if n, found := strings.CutSuffix(s, "d"); found {
		days, err := strconv.Atoi(n)
		if err != nil || days > 10_000 {
			return fmt.Errorf("%q: want a number of days like 90d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return fmt.Errorf("%q: want a duration like 90d, 36h or 5m", s)
		}
	}
	if d <= 0 {
		return fmt.Errorf("%q: want more than zero", s)
	}
	*f = lifetimeFlag(d)
	return nil
}

// accountsFlag collects repeated -account flags.
type accountsFlag []string

// String lists the accounts, comma-separated.
func (f *accountsFlag) String() string { return strings.Join(*f, ",") }

// Set adds one account, name@bank of at most 32 characters.
func (f *accountsFlag) Set(s string) error {
	name, bank, found := strings.Cut(s, "@")
	if !found || name == "" || bank == "" || strings.Contains(bank, "@") || len(s) > 32 {
		return fmt.Errorf("%q: want a Bakong account name@bank of at most 32 characters", s)
	}
	*f = append(*f, s)
	return nil
}
