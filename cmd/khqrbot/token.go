package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/storage"
)

// tokenUsage lists the token subcommands.
func tokenUsage(w io.Writer) {
	fmt.Fprintln(w, `Usage: khqrbot token status [--bakong-token T] [--email E] [--database-url D] [--json]
       khqrbot token request --email E --org O --project P
       khqrbot token verify CODE
       khqrbot token renew [--email E]

The Open API token: status reads the expiry of the token the bot uses
locally (no call): BAKONG_TOKEN, or the renewed one kept in the database
(DATABASE_URL) when it expires later, as 'khqrbot run' picks it; request and verify get a first token by email (API v1.0.2; today the portal
https://api-bakong.nbc.gov.kh/register does this); renew asks for a new token
for the registered email (BAKONG_EMAIL) and prints it as BAKONG_TOKEN=...
The running bot renews by itself when BAKONG_EMAIL is set.

'khqrbot token SUBCOMMAND -h' lists a subcommand's flags.

`+exitCodesHelp)
}

// runToken is "khqrbot token": the Open API token's status, and getting or
// renewing one.
func runToken(ctx context.Context, e *env, args []string) int {
	return runSubcommand(ctx, e, "token", tokenUsage, []subcommand{
		{"status", tokenStatus}, {"request", tokenRequest}, {"verify", tokenVerify}, {"renew", tokenRenew},
	}, args)
}

// tokenFlags makes a subcommand's flag set.
func tokenFlags(e *env, name, synopsis, about string) *flag.FlagSet {
	return newFlags(e, "token "+name, synopsis, about, exitCodesHelp)
}

// tokenEmail reads BAKONG_EMAIL, or the --email that overrides it; an
// invalid one is a usage error (code 2).
func tokenEmail(e *env, fs *flag.FlagSet, sf *settingFlags) (string, int) {
	r := sf.reader(e.getenv)
	addr := r.bakongEmail()
	if err := r.err(); err != nil {
		return "", cmdError(e, fs, exitUsage, err)
	}
	return addr, exitOK
}

type tokenStatusJSON struct {
	Source    string     `json:"source"` // "database" (renewed) or "environment" (BAKONG_TOKEN)
	ExpiresAt time.Time  `json:"expiresAt"`
	DaysLeft  int        `json:"daysLeft"`
	Expired   bool       `json:"expired"`
	Renewable bool       `json:"renewable"`
	RenewAt   *time.Time `json:"renewAt,omitempty"`
	Summary   string     `json:"summary"`
}

// tokenStatusTimeout bounds opening the database token status looks in.
const tokenStatusTimeout = 15 * time.Second

func tokenStatus(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "status", "[--bakong-token T] [--email E] [--database-url D] [--json]",
		"Decodes the expiry of the token the bot uses locally, BAKONG_TOKEN or the renewed one in the database; no call to Bakong.")
	sf := newSettingFlags(fs)
	sf.add("BAKONG_TOKEN", flagName("BAKONG_TOKEN"))
	sf.add("BAKONG_EMAIL", "email")
	sf.add("DATABASE_URL", flagName("DATABASE_URL"))
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	r := sf.reader(e.getenv)
	t, email, dbURL := r.bakongToken(), r.bakongEmail(), r.database()
	if err := r.err(); err != nil {
		return cmdError(e, fs, exitUsage, err)
	}
	if t == "" {
		return cmdError(e, fs, exitUsage, errors.New("no token: set BAKONG_TOKEN or pass --bakong-token"))
	}
	var store bakong.TokenStore
	octx, cancel := context.WithTimeout(ctx, tokenStatusTimeout)
	defer cancel()
	// Existing: no database yet means no renewed token, and status makes none.
	db, err := storage.Open(octx, dbURL, storage.Existing())
	switch {
	case err == nil:
		defer db.Close()
		store = db
	case !errors.Is(err, iofs.ErrNotExist):
		fmt.Fprintf(e.stderr, "khqrbot token status: %v; a renewed token there could not be looked for\n", err)
	}
	st, err := tokenInUse(octx, t, email, store, time.Now)
	if err != nil {
		return cmdError(e, fs, exitError, err)
	}
	if st.ExpiresAt.IsZero() {
		return cmdError(e, fs, exitUsage, unreadableToken(t))
	}
	code := exitOK
	if st.Expired {
		code = exitNo
	}
	if *asJSON {
		source := "environment"
		if st.Source == bakong.FromStore {
			source = "database"
		}
		j := tokenStatusJSON{Source: source, ExpiresAt: st.ExpiresAt.UTC(), DaysLeft: st.DaysLeft, Expired: st.Expired, Renewable: st.Renewable, Summary: st.String()}
		if !st.RenewAt.IsZero() {
			at := st.RenewAt.UTC()
			j.RenewAt = &at
		}
		printJSON(e.stdout, j)
		return code
	}
	fmt.Fprintf(e.stdout, "token       %s\n", tokenSource(st))
	fmt.Fprintf(e.stdout, "expires at  %s\n", st.ExpiresAt.UTC().Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(e.stdout, "days left   %d\n", st.DaysLeft)
	if st.Renewable {
		fmt.Fprintf(e.stdout, "renewable   yes: the bot renews it from %s; now: khqrbot token renew\n", st.RenewAt.UTC().Format("2006-01-02"))
	} else {
		fmt.Fprintln(e.stdout, "renewable   no: set BAKONG_EMAIL to the email the token is registered to")
	}
	if st.Expired {
		fmt.Fprintln(e.stdout, "EXPIRED: every check answers 401 until the token is renewed")
	}
	return code
}

func tokenRequest(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "request", "--email E --org O --project P", "Registers for a token; Bakong emails a code for 'khqrbot token verify'.")
	api := addAPIFlags(fs, false)
	api.add("BAKONG_EMAIL", "email")
	org := fs.String("org", "", "`ORGANIZATION`, 1 to 100 characters")
	project := fs.String("project", "", "`PROJECT`, 1 to 100 characters")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	addr, code := tokenEmail(e, fs, api.settingFlags)
	if code != exitOK {
		return code
	}
	if addr == "" || *org == "" || *project == "" {
		return usageError(fs, "--email (or BAKONG_EMAIL), --org and --project are required")
	}
	c := api.client(e, nil)
	if c == nil {
		return exitUsage
	}
	if err := c.RequestToken(ctx, addr, *org, *project); err != nil {
		return tokenError(e, fs, err, "if Bakong no longer offers this call, register at https://api-bakong.nbc.gov.kh/register")
	}
	if api.json {
		printJSON(e.stdout, map[string]any{"ok": true, "email": addr})
		return exitOK
	}
	fmt.Fprintf(e.stdout, "Bakong emailed a verification code to %s.\nNext: khqrbot token verify CODE\n", addr)
	return exitOK
}

func tokenVerify(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "verify", "CODE", "Swaps the 20-character code Bakong emailed for a token, printed as BAKONG_TOKEN=...")
	api := addAPIFlags(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) != 1 {
		return usageError(fs, "give the CODE from Bakong's email")
	}
	c := api.client(e, nil)
	if c == nil {
		return exitUsage
	}
	tok, err := c.VerifyCode(ctx, pos[0])
	if err != nil {
		return tokenError(e, fs, err, "")
	}
	return printToken(e, api.json, tok)
}

func tokenRenew(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "renew", "[--email E]", "Asks Bakong for a new token for the registered email and prints it as BAKONG_TOKEN=...\n"+
		"The old token may stop working: put the new one where the bot runs.")
	api := addAPIFlags(fs, false)
	api.add("BAKONG_EMAIL", "email")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	addr, code := tokenEmail(e, fs, api.settingFlags)
	if code != exitOK {
		return code
	}
	if addr == "" {
		return usageError(fs, "no email: set BAKONG_EMAIL or pass --email")
	}
	c := api.client(e, nil)
	if c == nil {
		return exitUsage
	}
	tok, err := c.RenewToken(ctx, addr)
	if err != nil {
		return tokenError(e, fs, err, "")
	}
	fmt.Fprintln(e.stderr, "khqrbot token renew: the old token may stop working; put the new one where the bot runs")
	return printToken(e, api.json, tok)
}

// tokenInUse reports on the Bakong token the deployment uses, picked as
// 'khqrbot run' picks it: the renewed one in store (the database the
// replicas share) when it expires later than configured (BAKONG_TOKEN). A
// nil store holds no renewed token.
func tokenInUse(ctx context.Context, configured, email string, store bakong.TokenStore, now func() time.Time) (bakong.TokenStatus, error) {
	m, err := bakong.NewTokenManager(ctx, bakong.TokenConfig{Token: configured, Email: email, Store: store, Clock: now})
	if err != nil {
		return bakong.TokenStatus{}, fmt.Errorf("the renewed token in the database cannot be read: %w", err)
	}
	return m.Status(), nil
}

// unreadableToken says why BAKONG_TOKEN tok, whose expiry tokenInUse found
// none of, cannot be read.
func unreadableToken(tok string) error {
	_, err := bakong.DecodeExpiry(tok)
	return fmt.Errorf("BAKONG_TOKEN cannot be read: %v; copy it again from the token email", err)
}

// tokenSource names the token st reports on, for people.
func tokenSource(st bakong.TokenStatus) string {
	if st.Source == bakong.FromStore {
		return "the renewed token in the database"
	}
	return "BAKONG_TOKEN"
}

// printToken prints a token the operator asked for, on stdout only.
func printToken(e *env, asJSON bool, tok string) int {
	exp, err := bakong.DecodeExpiry(tok)
	if asJSON {
		j := map[string]any{"token": tok}
		if err == nil {
			j["expiresAt"] = exp.UTC()
		}
		printJSON(e.stdout, j)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "BAKONG_TOKEN=%s\n", tok)
	if err == nil {
		fmt.Fprintf(e.stdout, "# expires %s\n", exp.UTC().Format("2006-01-02 15:04 MST"))
	}
	return exitOK
}

// tokenError prints a failed token call with its hint, and extra advice
// when Bakong refused it, and returns the exit code.
func tokenError(e *env, fs *flag.FlagSet, err error, extra string) int {
	code := cmdError(e, fs, errorExit(err), err)
	if h := hint(err); h != "" && !bakong.IsKind(err, bakong.KindUnauthorized) {
		fmt.Fprintf(e.stderr, "  %s\n", h)
	}
	if extra != "" && bakong.IsKind(err, bakong.KindAPI) {
		fmt.Fprintf(e.stderr, "  %s\n", extra)
	}
	return code
}
