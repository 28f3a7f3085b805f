package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/storage"
)

// checkStatus is the outcome of one doctor check.
type checkStatus string

const (
	checkOK   checkStatus = "OK"
	checkFail checkStatus = "FAIL"
	checkSkip checkStatus = "SKIP"
)

// checkResult is one line of doctor's report.
type checkResult struct {
	Name   string
	Status checkStatus
	Reason string
}

// tokenWarnDays is how close to its expiry a Bakong token gets a warning.
const tokenWarnDays = 14

// doctor checks what the bot needs, one thing at a time, and says in plain
// words what is wrong and what to do.
type doctor struct {
	cfg      *config
	cfgErr   *configError
	client   *http.Client // for Telegram
	timeout  time.Duration
	now      func() time.Time
	redactor *redactor

	db    *storage.DB // opened once by run for the checks; nil when it cannot be (dbErr)
	dbErr error
}

func runDoctor(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	timeout := fs.Duration("timeout", 15*time.Second, "time limit of each network check")
	fs.Usage = func() {
		printConfigUsage(fs, "Checks the configuration, the database, Telegram (getMe), the Bakong token's\n"+
			"expiry and whether Bakong answers this machine (401 reachable, 403 geo-blocked).\n"+
			"Exit codes: 0 every check OK or skipped, 1 a check failed, 2 usage error.")
	}
	cfg, err := readConfig(e.getenv, fs, args, true)
	var cerr *configError
	if err != nil && !errors.As(err, &cerr) {
		return exitConfig(e.stderr, err)
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	d := &doctor{
		cfg:      cfg,
		cfgErr:   cerr,
		client:   &http.Client{Timeout: *timeout},
		timeout:  *timeout,
		now:      time.Now,
		redactor: newRedactor(cfg.TelegramToken, cfg.BakongToken, cfg.WebhookSecret),
	}
	failed := 0
	for _, r := range d.run(ctx) {
		fmt.Fprintf(e.stdout, "%-4s  %-17s %s\n", r.Status, r.Name, r.Reason)
		if r.Status == checkFail {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(e.stdout, "\n%d of the checks failed.\n", failed)
		return exitNo
	}
	fmt.Fprintln(e.stdout, "\nAll checks passed.")
	return exitOK
}

// run performs every check in order. Reasons never hold a secret.
func (d *doctor) run(ctx context.Context) []checkResult {
	if !d.cfgErr.has("DATABASE_URL") {
		octx, cancel := context.WithTimeout(ctx, d.timeout)
		d.db, d.dbErr = storage.Open(octx, d.cfg.DatabaseURL)
		cancel()
		if d.dbErr == nil {
			defer d.db.Close()
		}
	}
	checks := []struct {
		name string
		f    func(context.Context) (checkStatus, string)
	}{
		{"configuration", d.checkConfig},
		{"database", d.checkDatabase},
		{"telegram", d.checkTelegram},
		{"bakong token", d.checkToken},
		{"bakong reachable", d.checkReachable},
	}
	out := make([]checkResult, 0, len(checks))
	for _, c := range checks {
		st, reason := c.f(ctx)
		out = append(out, checkResult{Name: c.name, Status: st, Reason: d.redactor.String(reason)})
	}
	return out
}

func (d *doctor) checkConfig(context.Context) (checkStatus, string) {
	if d.cfgErr != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "%d problem(s):", len(d.cfgErr.Problems))
		for _, p := range d.cfgErr.Problems {
			b.WriteString("\n        - " + p.String())
		}
		return checkFail, b.String()
	}
	c := d.cfg
	mode := "long polling"
	if c.WebhookURL != "" {
		mode = "webhook " + c.WebhookURL
	}
	if c.Sandbox {
		return checkOK, "sandbox mode (no BAKONG_TOKEN): the built-in Bakong simulator, no real money; " + mode
	}
	return checkOK, fmt.Sprintf("live: payments to %s as %q; %s", c.BakongAccountID, c.MerchantName, mode)
}

func (d *doctor) checkDatabase(ctx context.Context) (checkStatus, string) {
	if d.cfgErr.has("DATABASE_URL") {
		return checkSkip, "DATABASE_URL is invalid (see configuration)"
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	name := storage.DisplayURL(d.cfg.DatabaseURL) // a PostgreSQL URL may carry a password
	if d.dbErr != nil {
		return checkFail, fmt.Sprintf("cannot open %s: %v", name, d.dbErr)
	}
	server, err := d.db.ServerVersion(ctx)
	if err != nil {
		return checkFail, fmt.Sprintf("%s: %v", name, err)
	}
	schema, err := d.db.SchemaVersion(ctx)
	if err != nil {
		return checkFail, fmt.Sprintf("%s: %v", name, err)
	}
	stamp := d.now().UTC().Format(time.RFC3339Nano)
	if err := d.db.SetSetting(ctx, "doctor.checked_at", stamp); err != nil {
		return checkFail, fmt.Sprintf("%s is not writable: %v", name, err)
	}
	got, err := d.db.Setting(ctx, "doctor.checked_at")
	if err != nil || got != stamp {
		return checkFail, fmt.Sprintf("%s: a value written could not be read back (%v)", name, err)
	}
	return checkOK, fmt.Sprintf("%s: %s, schema version %d (this build's), written and read back", name, server, schema)
}

func (d *doctor) checkTelegram(ctx context.Context) (checkStatus, string) {
	switch {
	case d.cfg.TelegramToken == "":
		return checkSkip, "TELEGRAM_BOT_TOKEN is not set"
	case d.cfgErr.has("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL"):
		return checkSkip, "TELEGRAM_BOT_TOKEN or TELEGRAM_API_URL is invalid (see configuration)"
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	u := d.cfg.TelegramAPIURL + "/bot" + d.cfg.TelegramToken + "/getMe"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return checkFail, fmt.Sprintf("getMe: %v", err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return checkFail, fmt.Sprintf("cannot reach Telegram at %s: %v", d.cfg.TelegramAPIURL, err)
	}
	defer resp.Body.Close()
	var env struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
		Result      struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		} `json:"result"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(body, &env); err != nil {
		return checkFail, fmt.Sprintf("getMe answered HTTP %d with something that is not the Bot API's JSON", resp.StatusCode)
	}
	switch {
	case env.OK:
		return checkOK, fmt.Sprintf("the token belongs to @%s (id %d)", env.Result.Username, env.Result.ID)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotFound:
		return checkFail, fmt.Sprintf("Telegram refused the token (HTTP %d %s): copy TELEGRAM_BOT_TOKEN again from @BotFather", resp.StatusCode, env.Description)
	}
	return checkFail, fmt.Sprintf("getMe failed: HTTP %d %s", resp.StatusCode, env.Description)
}

// checkToken checks the token the bot would use: like `khqrbot run`, the
// renewed one kept in the database when it expires later than BAKONG_TOKEN.
func (d *doctor) checkToken(ctx context.Context) (checkStatus, string) {
	if d.cfg.Sandbox {
		return checkSkip, "sandbox mode: no BAKONG_TOKEN"
	}
	var store bakong.TokenStore
	note := ""
	switch {
	case d.cfgErr.has("DATABASE_URL"):
		note = " (DATABASE_URL is invalid, so a renewed token could not be looked for)"
	case d.dbErr != nil:
		note = " (the database cannot be opened, so a renewed token could not be looked for)"
	default:
		store = d.db
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	st, err := tokenInUse(ctx, d.cfg.BakongToken, d.cfg.BakongEmail, store, d.now)
	if err != nil {
		return checkFail, err.Error()
	}
	if st.ExpiresAt.IsZero() {
		return checkFail, unreadableToken(d.cfg.BakongToken).Error() + note
	}
	which := tokenSource(st)
	date := st.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	renew := "renew it with 'khqrbot token renew'"
	if d.cfg.BakongEmail == "" {
		renew += " (set BAKONG_EMAIL to the email the token is registered to)"
	}
	switch {
	case st.Expired:
		return checkFail, fmt.Sprintf("%s expired on %s: %s%s", which, date, renew, note)
	case st.DaysLeft < tokenWarnDays:
		return checkOK, fmt.Sprintf("%s expires on %s, in %d day(s): %s soon%s", which, date, st.DaysLeft, renew, note)
	}
	return checkOK, fmt.Sprintf("%s expires on %s, in %d days%s", which, date, st.DaysLeft, note)
}

// checkReachable asks check_transaction_by_md5 without a token. From inside
// Cambodia, or through a proxy there, Bakong answers 401; from elsewhere its
// edge answers 403 with an HTML page.
func (d *doctor) checkReachable(ctx context.Context) (checkStatus, string) {
	switch {
	case d.cfg.Sandbox:
		return checkSkip, "sandbox mode: the bot does not call Bakong"
	case d.cfgErr.has("BAKONG_API_URL", "BAKONG_PROXY_URL"):
		return checkSkip, "BAKONG_API_URL or BAKONG_PROXY_URL is invalid (see configuration)"
	}
	via := ""
	if p := d.cfg.BakongProxyURL; p != "" {
		u, err := url.Parse(p)
		if err != nil {
			return checkSkip, "BAKONG_PROXY_URL is invalid (see configuration)"
		}
		via = " through BAKONG_PROXY_URL " + u.Redacted()
	}
	c, err := apiSettings{url: d.cfg.BakongAPIURL, proxy: d.cfg.BakongProxyURL, timeout: d.timeout}.client()
	if err != nil {
		return checkFail, err.Error()
	}
	_, err = c.CheckMD5(ctx, strings.Repeat("0", 32))
	var be *bakong.Error
	switch {
	case err == nil || errors.Is(err, bakong.ErrNotFound) || errors.Is(err, bakong.ErrFailed):
		return checkOK, "Bakong answers this machine" + via + " (HTTP 200)"
	case !errors.As(err, &be):
		return checkFail, err.Error()
	case be.Kind == bakong.KindUnauthorized:
		return checkOK, fmt.Sprintf("Bakong answers this machine%s (HTTP 401 without a token, as expected)", via)
	case be.Kind == bakong.KindGeoBlocked && via != "":
		return checkFail, "Bakong refused the request (HTTP 403)" + via + ": the proxy's address is not accepted. " +
			"The Open API answers only from Cambodia: use a proxy there"
	case be.Kind == bakong.KindGeoBlocked:
		return checkFail, "Bakong refused this machine (HTTP 403, an HTML page): the Open API answers only from " +
			"Cambodian IP addresses. Run khqrbot on a server in Cambodia, or set BAKONG_PROXY_URL to an HTTP proxy there"
	case be.HTTPStatus == http.StatusProxyAuthRequired:
		return checkFail, "the proxy asks for credentials (HTTP 407): put them in BAKONG_PROXY_URL as http://user:password@host:port"
	case be.HTTPStatus == 0:
		cause := be.Message
		if be.Err != nil {
			cause += ": " + be.Err.Error()
		}
		return checkFail, fmt.Sprintf("cannot reach Bakong at %s%s: %s", d.cfg.BakongAPIURL, via, cause)
	}
	return checkFail, fmt.Sprintf("Bakong answered HTTP %d%s; try again later, or check BAKONG_API_URL", be.HTTPStatus, via)
}
