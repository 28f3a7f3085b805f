package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/khqrbot/khqrbot/bot"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// config is everything khqrbot reads from its environment and flags.
// Durations and amounts are already parsed and checked: a *config from
// loadConfig is valid.
type config struct {
	TelegramToken  string // secret
	TelegramAPIURL string // without a trailing slash

	BakongAPIURL    string // without a trailing slash
	BakongToken     string // secret; empty means sandbox mode
	BakongEmail     string // for token renewal; may be empty
	BakongAccountID string // name@bank, the receiver of every KHQR
	BakongProxyURL  string // http(s) proxy for Bakong calls only; may be empty
	BakongMaxRPS    int

	MerchantName    string
	MerchantCity    string
	MerchantID      string // with AcquiringBank: a merchant (tag 30) KHQR
	AcquiringBank   string
	DefaultCurrency khqr.Currency
	// DeeplinkIconURL is the icon the customer's bank app shows for a
	// deeplink; empty: deeplinks carry no sourceInfo (see sourceInfo in run.go).
	DeeplinkIconURL string

	DatabaseURL string
	// AdminIDs are the Telegram user ids allowed everything. In sandbox mode
	// an empty list lets everyone invoice.
	AdminIDs     []int64
	QRTTL        time.Duration
	PollInterval time.Duration

	ListenAddr    string // webhook, health and metrics endpoints; empty: none
	MetricsAddr   string // /metrics on its own server; empty: on ListenAddr
	WebhookURL    string // empty: long polling
	WebhookSecret string // secret; set whenever WebhookURL is

	LogLevel  slog.Level
	LogFormat string // "text" or "json"

	// Sandbox is true when no BAKONG_TOKEN is set: the bot runs on the
	// built-in Bakong simulator and no real money moves.
	Sandbox bool
}

// Defaults that sandbox mode fills in, so that a Telegram token alone runs the bot.
const (
	sandboxAccountID    = "sandbox@khqr"
	sandboxMerchantName = "khqrbot sandbox"
)

// configSetting is one configuration variable: its environment name, its default
// as shown to people, and what it means.
type configSetting struct {
	env    string
	def    string
	help   string
	secret bool
}

// configSettings lists every variable, in the order help shows them. The names are
// a public contract.
var configSettings = []configSetting{
	{"TELEGRAM_BOT_TOKEN", "", "bot token from @BotFather (required by run)", true},
	{"TELEGRAM_API_URL", bot.DefaultAPIURL, "Bot API base URL", false},
	{"BAKONG_API_URL", bakong.DefaultBaseURL, "Bakong Open API base URL", false},
	{"BAKONG_TOKEN", "", "Open API token; without one, run is in sandbox mode on the built-in simulator", true},
	{"BAKONG_EMAIL", "", "email the token is registered to; lets khqrbot renew it", false},
	{"BAKONG_ACCOUNT_ID", sandboxAccountID + " in sandbox", "Bakong account that receives payments, name@bank; required unless sandbox", false},
	{"BAKONG_PROXY_URL", "", "http(s) proxy for Bakong calls only, e.g. one in Cambodia", false},
	{"BAKONG_MAX_RPS", strconv.Itoa(payments.DefaultMaxRPS), "most Bakong requests per second, 1 to 100", false},
	{"MERCHANT_NAME", sandboxMerchantName + " in sandbox", "name on the KHQR, at most 25 characters; required unless sandbox", false},
	{"MERCHANT_CITY", khqr.DefaultCity, "city on the KHQR, at most 15 characters", false},
	{"MERCHANT_ID", "", "merchant id; with ACQUIRING_BANK makes merchant KHQRs (tag 30)", false},
	{"ACQUIRING_BANK", "", "acquiring bank; set together with MERCHANT_ID", false},
	{"DEFAULT_CURRENCY", string(payments.DefaultCurrency), "currency when /pay names none: USD or KHR", false},
	{"DEEPLINK_ICON_URL", "", "icon URL the bank app shows when a deeplink opens it; set, deeplinks also name MERCHANT_NAME and lead back to the bot's chat", false},
	{"DATABASE_URL", defaultDatabaseURL, "SQLite file path or file: URL, or a postgres:// URL (PostgreSQL, for several replicas)", false},
	{"ADMIN_IDS", "", "comma-separated Telegram user ids of admins; required unless sandbox, where empty lets everyone invoice", false},
	{"QR_TTL", shortDuration(payments.DefaultQRTTL), "how long a QR can be paid, " + qrTTLRange, false},
	{"POLL_INTERVAL", shortDuration(payments.DefaultInterval), "how often pending QRs are checked, 1s to 1m", false},
	{"LISTEN_ADDR", "", "host:port for the webhook, health (/healthz) and metrics (/metrics) endpoints; empty: no HTTP server", false},
	{"METRICS_ADDR", "", "host:port to serve /metrics on instead of LISTEN_ADDR, e.g. a private 127.0.0.1:9090", false},
	{"WEBHOOK_URL", "", "public https URL Telegram posts updates to; empty: long polling", false},
	{"WEBHOOK_SECRET", "", "secret Telegram sends with each webhook update, 1-256 of A-Z a-z 0-9 _ -", true},
	{"LOG_LEVEL", defaultLogLevel, "debug, info, warn or error", false},
	{"LOG_FORMAT", defaultLogFormat, "text or json", false},
}

// Defaults of the settings no other package has a default for.
const (
	defaultDatabaseURL = "khqrbot.db"
	defaultLogLevel    = "info"
	defaultLogFormat   = "text"
)

// minQRTTL is the shortest QR lifetime QR_TTL and the demo's --qr-ttl take:
// a customer needs the time to scan and pay.
const minQRTTL = 10 * time.Second

// qrTTLRange says which QR lifetimes are taken.
var qrTTLRange = shortDuration(minQRTTL) + " to " + shortDuration(payments.MaxQRTTL)

// shortDuration writes d as people type it: "10m", not "10m0s". The
// defaults shown in help are written from the constants the code uses, so
// that each default has one source.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// flagName is the flag for an environment variable: BAKONG_MAX_RPS -> bakong-max-rps.
func flagName(env string) string { return strings.ReplaceAll(strings.ToLower(env), "_", "-") }

// configProblem is one invalid or missing setting.
type configProblem struct {
	Var    string // environment variable name
	Source string // where the value came from: the variable or its --flag
	Got    string // the value as it may be shown: "" when unset, "(set)" for secrets
	Want   string // what is accepted
}

// String says which setting, from where, what it got and what is wanted.
func (p configProblem) String() string {
	src := p.Source
	if src != p.Var {
		src += " (" + p.Var + ")"
	}
	if p.Got == "" {
		return src + " is not set: want " + p.Want
	}
	return src + "=" + p.Got + ": want " + p.Want
}

// configError lists every problem of a configuration at once, so that one
// run shows everything to fix.
type configError struct {
	Problems []configProblem
}

// Error lists every problem, one a line.
func (e *configError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("invalid configuration:")
	} else {
		fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// has reports whether any problem concerns one of vars.
func (e *configError) has(vars ...string) bool {
	if e == nil {
		return false
	}
	for _, p := range e.Problems {
		for _, v := range vars {
			if p.Var == v {
				return true
			}
		}
	}
	return false
}

// loadConfig defines a flag on fs for every setting, parses args, and reads
// each setting from its flag when given, else from getenv, else its default.
// needTelegram makes TELEGRAM_BOT_TOKEN required. Problems are reported all
// together in a *configError; a bad flag or -h returns fs.Parse's error
// (flag.ErrHelp for -h). Commands turn any error into an exit code with
// exitConfig. fs.Args() holds what follows the flags. Unless the command set
// its own fs.Usage, -h shows the command's flags and the table of settings.
func loadConfig(getenv func(string) string, fs *flag.FlagSet, args []string, needTelegram bool) (*config, error) {
	cfg, err := readConfig(getenv, fs, args, needTelegram)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// readConfig is loadConfig, but with a *configError it also returns the
// configuration as far as it is valid (defaults where it is not), for doctor.
func readConfig(getenv func(string) string, fs *flag.FlagSet, args []string, needTelegram bool) (*config, error) {
	sf := newSettingFlags(fs)
	for _, s := range configSettings {
		sf.add(s.env, flagName(s.env))
	}
	if isDefaultUsage(fs) {
		fs.Usage = func() { printConfigUsage(fs, commandSummary(fs.Name())) }
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	r := sf.reader(getenv)
	cfg := r.read(needTelegram)
	return cfg, r.err()
}

// settingFlags are flags that override configuration settings: commands
// other than run define the few settings they use, with run's flag names or
// their own (token's --email for BAKONG_EMAIL).
type settingFlags struct {
	fs    *flag.FlagSet
	vals  map[string]*string // flag values by variable
	names map[string]string  // flag names by variable
}

func newSettingFlags(fs *flag.FlagSet) *settingFlags {
	return &settingFlags{fs: fs, vals: map[string]*string{}, names: map[string]string{}}
}

// add defines the flag name for the setting env, with its help, and
// returns the flag's value.
func (sf *settingFlags) add(env, name string) *string {
	usage := ""
	for _, s := range configSettings {
		if s.env == env {
			usage = s.help + " (env " + s.env + ")"
			if s.def != "" {
				usage += "; default " + s.def
			}
		}
	}
	sf.vals[env], sf.names[env] = sf.fs.String(name, "", usage), name
	return sf.vals[env]
}

// reader reads the settings after the flags were parsed: each from its
// flag when given, else from getenv.
func (sf *settingFlags) reader(getenv func(string) string) *configReader {
	given := map[string]bool{}
	sf.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return &configReader{getenv: getenv, vals: sf.vals, names: sf.names, given: given}
}

// isDefaultUsage reports whether fs.Usage is still the flag package's own,
// which lists every setting's flag without the table: then loadConfig
// installs printConfigUsage. A command that sets its own Usage keeps it.
func isDefaultUsage(fs *flag.FlagSet) bool {
	if fs.Usage == nil {
		return true
	}
	std := flag.NewFlagSet("", flag.ContinueOnError).Usage
	return reflect.ValueOf(fs.Usage).Pointer() == reflect.ValueOf(std).Pointer()
}

// exitConfig reports a loadConfig error and returns the exit code: 0 for
// -h (the flag package printed the help), 2 otherwise.
func exitConfig(w io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var cerr *configError
	if errors.As(err, &cerr) {
		fmt.Fprintln(w, "khqrbot:", cerr)
		fmt.Fprintln(w, "'khqrbot help run' lists every setting.")
	}
	// Flag syntax errors were already printed by the flag package, with usage.
	return 2
}

// commandSummary is the one-line description of the command named name
// ("run" or "khqrbot run"), or "".
func commandSummary(name string) string {
	name = strings.TrimPrefix(name, "khqrbot ")
	for _, c := range commands() {
		if c.name == name {
			return c.short
		}
	}
	return ""
}

// printConfigUsage is the help of a command that uses loadConfig: the usage
// line, about (a description, may be empty), the command's own flags, then
// the table of settings.
func printConfigUsage(fs *flag.FlagSet, about string) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: khqrbot %s [flags]\n", strings.TrimPrefix(fs.Name(), "khqrbot "))
	if about != "" {
		fmt.Fprintf(w, "\n%s\n", about)
	}
	isSetting := map[string]bool{}
	for _, s := range configSettings {
		isSetting[flagName(s.env)] = true
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if isSetting[f.Name] {
			return
		}
		if first {
			fmt.Fprintln(w, "\nFlags:")
			first = false
		}
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  -%s %s\n        %s", f.Name, name, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	printConfigSettings(w)
}

// printConfigSettings writes the table of settings.
func printConfigSettings(w io.Writer) {
	fmt.Fprintln(w, "\nSettings: each comes from its environment variable; the flag of the same")
	fmt.Fprintln(w, "name (--telegram-bot-token for TELEGRAM_BOT_TOKEN) overrides it. Prefer the")
	fmt.Fprintln(w, "environment for secrets: other users of the machine can see flags.")
	fmt.Fprintln(w)
	for _, s := range configSettings {
		line := s.help
		if s.def != "" {
			line += " (default " + s.def + ")"
		}
		fmt.Fprintf(w, "  %-19s %s\n", s.env, line)
	}
}

// configReader reads and checks settings, collecting every problem.
type configReader struct {
	getenv   func(string) string
	vals     map[string]*string // flag values by variable
	names    map[string]string  // flag names by variable
	given    map[string]bool    // by flag name
	problems []configProblem
}

// get returns a setting's trimmed value and where it came from.
func (r *configReader) get(env string) (string, string) {
	if name, ok := r.names[env]; ok && r.given[name] {
		return strings.TrimSpace(*r.vals[env]), "--" + name
	}
	return strings.TrimSpace(r.getenv(env)), env
}

// err returns the problems found so far as one *configError, in the order
// of the settings table, or nil.
func (r *configReader) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	order := map[string]int{}
	for i, s := range configSettings {
		order[s.env] = i
	}
	slices.SortStableFunc(r.problems, func(a, b configProblem) int { return order[a.Var] - order[b.Var] })
	return &configError{Problems: r.problems}
}

// bad records a problem with env's value.
func (r *configReader) bad(env, want string) {
	v, src := r.get(env)
	if u, err := url.Parse(v); err == nil && u.User != nil {
		v = u.Redacted() // a proxy or database URL may carry a password
	}
	for _, s := range configSettings {
		if s.env == env && s.secret && v != "" {
			v = "(set)"
		}
	}
	if v != "" && v != "(set)" {
		v = strconv.Quote(v)
	}
	r.problems = append(r.problems, configProblem{Var: env, Source: src, Got: v, Want: want})
}

// str returns env's value or def when it is empty.
func (r *configReader) str(env, def string) string {
	if v, _ := r.get(env); v != "" {
		return v
	}
	return def
}

var (
	cfgTelegramTokenRe = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	cfgAccountRe       = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
	cfgSecretRe        = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	cfgSchemeRe        = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
)

// read reads every setting, applying defaults and the sandbox rules. It is
// long because it is a list: one setting after another, each with its checks
// and the rules that join settings (sandbox, webhook and secret) beside them.
func (r *configReader) read(needTelegram bool) *config {
	c := &config{
		TelegramToken:   r.str("TELEGRAM_BOT_TOKEN", ""),
		TelegramAPIURL:  r.url("TELEGRAM_API_URL", bot.DefaultAPIURL, false),
		BakongAPIURL:    r.bakongAPIURL(),
		BakongToken:     r.bakongToken(),
		BakongProxyURL:  r.url("BAKONG_PROXY_URL", "", false),
		BakongEmail:     r.bakongEmail(),
		BakongMaxRPS:    r.integer("BAKONG_MAX_RPS", payments.DefaultMaxRPS, 1, 100),
		DeeplinkIconURL: r.url("DEEPLINK_ICON_URL", "", false),
		MerchantCity:    r.text("MERCHANT_CITY", khqr.DefaultCity, 15),
		DatabaseURL:     r.database(),
		QRTTL:           r.duration("QR_TTL", payments.DefaultQRTTL, minQRTTL, payments.MaxQRTTL),
		PollInterval:    r.duration("POLL_INTERVAL", payments.DefaultInterval, time.Second, time.Minute),
		DefaultCurrency: payments.DefaultCurrency,
		LogFormat:       defaultLogFormat,
	}
	c.Sandbox = c.BakongToken == ""

	switch {
	case c.TelegramToken == "" && needTelegram:
		r.bad("TELEGRAM_BOT_TOKEN", "the bot token from @BotFather, like 123456789:AAE...")
	case c.TelegramToken != "" && !cfgTelegramTokenRe.MatchString(c.TelegramToken):
		r.bad("TELEGRAM_BOT_TOKEN", "the bot token from @BotFather: digits, a colon, then letters, digits, _ or -")
	}

	c.BakongAccountID = r.str("BAKONG_ACCOUNT_ID", "")
	switch {
	case c.BakongAccountID == "" && c.Sandbox:
		c.BakongAccountID = sandboxAccountID
	case c.BakongAccountID == "":
		r.bad("BAKONG_ACCOUNT_ID", "the Bakong account that receives payments, name@bank (required unless BAKONG_TOKEN is empty)")
	case !cfgAccountRe.MatchString(c.BakongAccountID) || utf16Units(c.BakongAccountID) > 32:
		r.bad("BAKONG_ACCOUNT_ID", "a Bakong account id name@bank, at most 32 characters")
		c.BakongAccountID = ""
	}

	c.MerchantName = r.text("MERCHANT_NAME", "", 25)
	if c.MerchantName == "" {
		if c.Sandbox {
			c.MerchantName = sandboxMerchantName
		} else if v, _ := r.get("MERCHANT_NAME"); v == "" {
			r.bad("MERCHANT_NAME", "the name shown on the KHQR, 1 to 25 characters (required unless BAKONG_TOKEN is empty)")
		}
	}

	c.MerchantID = r.text("MERCHANT_ID", "", 32)
	c.AcquiringBank = r.text("ACQUIRING_BANK", "", 32)
	mid, _ := r.get("MERCHANT_ID")
	bank, _ := r.get("ACQUIRING_BANK")
	if (mid == "") != (bank == "") {
		if mid == "" {
			r.bad("MERCHANT_ID", "a merchant id too, since ACQUIRING_BANK is set (or neither)")
		} else {
			r.bad("ACQUIRING_BANK", "an acquiring bank too, since MERCHANT_ID is set (or neither)")
		}
	}

	if v := r.str("DEFAULT_CURRENCY", ""); v != "" {
		cur, err := khqr.ParseCurrency(strings.ToUpper(v))
		if err != nil {
			r.bad("DEFAULT_CURRENCY", "USD or KHR")
		} else {
			c.DefaultCurrency = cur
		}
	}

	c.AdminIDs = r.adminIDs()
	if len(c.AdminIDs) == 0 && !c.Sandbox && !r.has("ADMIN_IDS") {
		r.bad("ADMIN_IDS", "comma-separated Telegram user ids, like 123456789,987654321 (required unless BAKONG_TOKEN is empty)")
	}

	c.ListenAddr = r.str("LISTEN_ADDR", "")
	if c.ListenAddr != "" {
		if _, port, err := net.SplitHostPort(c.ListenAddr); err != nil || !validPortNumber(port) {
			r.bad("LISTEN_ADDR", "host:port or :port, like :8080 or 127.0.0.1:8080")
			c.ListenAddr = ""
		}
	}
	c.MetricsAddr = r.str("METRICS_ADDR", "")
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || !validPortNumber(port) {
			r.bad("METRICS_ADDR", "host:port or :port, like 127.0.0.1:9090")
			c.MetricsAddr = ""
		} else if c.MetricsAddr == c.ListenAddr {
			r.bad("METRICS_ADDR", "an address other than LISTEN_ADDR, or empty to serve /metrics on LISTEN_ADDR")
		}
	}
	c.WebhookURL = r.url("WEBHOOK_URL", "", true)
	c.WebhookSecret = r.str("WEBHOOK_SECRET", "")
	switch {
	case c.WebhookSecret != "" && !cfgSecretRe.MatchString(c.WebhookSecret):
		r.bad("WEBHOOK_SECRET", "1 to 256 characters of A-Z, a-z, 0-9, _ and -")
	case c.WebhookSecret == "" && r.has("WEBHOOK_URL"):
		r.bad("WEBHOOK_SECRET", "a secret of 1 to 256 characters of A-Z, a-z, 0-9, _ and -, required with WEBHOOK_URL")
	}
	if r.has("WEBHOOK_URL") && !r.has("LISTEN_ADDR") {
		r.bad("LISTEN_ADDR", "the host:port to receive webhook updates on, like :8080, required with WEBHOOK_URL")
	}

	switch v := strings.ToLower(r.str("LOG_LEVEL", defaultLogLevel)); v {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		r.bad("LOG_LEVEL", "debug, info, warn or error")
	}
	switch v := strings.ToLower(r.str("LOG_FORMAT", defaultLogFormat)); v {
	case "text", "json":
		c.LogFormat = v
	default:
		r.bad("LOG_FORMAT", "text or json")
	}
	return c
}

// bakongAPIURL reads BAKONG_API_URL.
func (r *configReader) bakongAPIURL() string {
	return r.url("BAKONG_API_URL", bakong.DefaultBaseURL, false)
}

// bakongToken reads BAKONG_TOKEN; empty means sandbox mode. A bad token is
// still returned, so that the rules of live mode are checked too.
func (r *configReader) bakongToken() string {
	v := r.str("BAKONG_TOKEN", "")
	if strings.ContainsAny(v, " \t\r\n") {
		r.bad("BAKONG_TOKEN", "the Open API token, without spaces")
	}
	return v
}

// bakongEmail reads BAKONG_EMAIL, the address the token is registered to.
func (r *configReader) bakongEmail() string {
	v := r.str("BAKONG_EMAIL", "")
	if v == "" {
		return ""
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		r.bad("BAKONG_EMAIL", "an email address such as merchant@example.com")
		return ""
	}
	return v
}

// has reports whether env has a non-empty value.
func (r *configReader) has(env string) bool { v, _ := r.get(env); return v != "" }

// url reads an http(s) URL with a host; with httpsOnly, plain http is
// accepted only on a loopback host (a local fake).
func (r *configReader) url(env, def string, httpsOnly bool) string {
	v := r.str(env, def)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	ok := err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http")
	if ok && httpsOnly && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		r.bad(env, "an https:// URL (Telegram posts webhooks over HTTPS only)")
		return ""
	}
	if !ok {
		r.bad(env, "an http:// or https:// URL with a host")
		return def
	}
	return strings.TrimRight(v, "/")
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

func validPortNumber(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// integer reads a whole number within [lo, hi].
func (r *configReader) integer(env string, def, lo, hi int) int {
	v := r.str(env, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.bad(env, fmt.Sprintf("a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

// duration reads a Go duration within [lo, hi].
func (r *configReader) duration(env string, def, lo, hi time.Duration) time.Duration {
	v := r.str(env, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.bad(env, fmt.Sprintf("a duration from %s to %s, like 90s or 5m", fmtDuration(lo), fmtDuration(hi)))
		return def
	}
	return d
}

// fmtDuration writes 10m0s as 10m and 1m0s as 1m.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

// text reads a value of at most max UTF-16 code units, the unit KHQR
// lengths are counted in.
func (r *configReader) text(env, def string, max int) string {
	v := r.str(env, def)
	if n := utf16Units(v); n > max {
		r.bad(env, fmt.Sprintf("at most %d characters (got %d)", max, n))
		return ""
	}
	return v
}

func utf16Units(s string) int { return len(utf16.Encode([]rune(s))) }

// database reads DATABASE_URL: a SQLite path or file: URL, or a
// PostgreSQL URL. storage.Open checks the rest when it connects.
func (r *configReader) database() string {
	v := r.str("DATABASE_URL", defaultDatabaseURL)
	if m := cfgSchemeRe.FindStringSubmatch(v); m != nil {
		switch strings.ToLower(m[1]) {
		case "file", "postgres", "postgresql":
			return v
		default:
			r.bad("DATABASE_URL", "a SQLite file path such as khqrbot.db, a file: URL, or a postgres:// URL")
		}
		return defaultDatabaseURL
	}
	return v
}

// adminIDs reads ADMIN_IDS: positive Telegram user ids separated by commas.
func (r *configReader) adminIDs() []int64 {
	v := r.str("ADMIN_IDS", "")
	if v == "" {
		return nil
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			r.bad("ADMIN_IDS", fmt.Sprintf("comma-separated Telegram user ids (positive numbers), like 123456789,987654321; %q is not one", f))
			return nil
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		r.bad("ADMIN_IDS", "at least one Telegram user id, like 123456789")
	}
	return ids
}
