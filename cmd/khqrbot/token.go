package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

func tokenUsage(w io.Writer) {
	fmt.Fprintln(w, `Usage: khqrbot token status [--token T] [--email E] [--json]
       khqrbot token request --email E --org O --project P
       khqrbot token verify CODE
       khqrbot token renew [--email E]

The Open API token: status reads BAKONG_TOKEN's expiry locally (no call);
request and verify get a first token by email (API v1.0.2; today the portal
https://api-bakong.nbc.gov.kh/register does this); renew asks for a new token
for the registered email (BAKONG_EMAIL) and prints it as BAKONG_TOKEN=...
The running bot renews by itself when BAKONG_EMAIL is set.

'khqrbot token SUBCOMMAND -h' lists a subcommand's flags.

`+exitCodesHelp)
}

func runToken(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		tokenUsage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "status":
		return tokenStatus(ctx, e, args[1:])
	case "request":
		return tokenRequest(ctx, e, args[1:])
	case "verify":
		return tokenVerify(ctx, e, args[1:])
	case "renew":
		return tokenRenew(ctx, e, args[1:])
	case "-h", "--help", "help":
		tokenUsage(e.stdout)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "khqrbot token: unknown subcommand %q\n\n", args[0])
	tokenUsage(e.stderr)
	return exitUsage
}

func tokenFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("token "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: khqrbot token "+usage)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "\n"+exitCodesHelp)
	}
	return fs
}

// envDefault is v, else the environment variable key.
func envDefault(e *env, v, key string) string {
	if v != "" {
		return v
	}
	return e.getenv(key)
}

type tokenStatusJSON struct {
	ExpiresAt time.Time  `json:"expiresAt"`
	DaysLeft  int        `json:"daysLeft"`
	Expired   bool       `json:"expired"`
	Renewable bool       `json:"renewable"`
	RenewAt   *time.Time `json:"renewAt,omitempty"`
	Summary   string     `json:"summary"`
}

func tokenStatus(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "status", "status [--token T] [--email E] [--json]\n\nDecodes the token's expiry locally; no call to Bakong.")
	tok := fs.String("token", "", "Open API `TOKEN` (default $BAKONG_TOKEN)")
	email := fs.String("email", "", "registered `EMAIL`, which makes renewal possible (default $BAKONG_EMAIL)")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	t := envDefault(e, *tok, "BAKONG_TOKEN")
	if t == "" {
		fmt.Fprintln(e.stderr, "khqrbot token status: no token: set BAKONG_TOKEN or pass --token")
		return exitUsage
	}
	if _, err := bakong.DecodeExpiry(t); err != nil {
		fmt.Fprintf(e.stderr, "khqrbot token status: BAKONG_TOKEN cannot be read: %v; copy it again from the token email\n", err)
		return exitUsage
	}
	m, err := bakong.NewTokenManager(ctx, bakong.TokenConfig{Token: t, Email: envDefault(e, *email, "BAKONG_EMAIL")})
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot token status: %v\n", err)
		return exitUsage
	}
	st := m.Status()
	code := exitOK
	if st.Expired {
		code = exitNo
	}
	if *asJSON {
		j := tokenStatusJSON{ExpiresAt: st.ExpiresAt.UTC(), DaysLeft: st.DaysLeft, Expired: st.Expired, Renewable: st.Renewable, Summary: st.String()}
		if !st.RenewAt.IsZero() {
			at := st.RenewAt.UTC()
			j.RenewAt = &at
		}
		printJSON(e.stdout, j)
		return code
	}
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
	fs := tokenFlags(e, "request", "request --email E --org O --project P\n\nRegisters for a token; Bakong emails a code for 'khqrbot token verify'.")
	email := fs.String("email", "", "`EMAIL` to register, at most 30 characters (default $BAKONG_EMAIL)")
	org := fs.String("org", "", "`ORGANIZATION`, 1 to 100 characters")
	project := fs.String("project", "", "`PROJECT`, 1 to 100 characters")
	api := addAPIFlags(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	addr := envDefault(e, *email, "BAKONG_EMAIL")
	if addr == "" || *org == "" || *project == "" {
		return usageError(fs, "--email, --org and --project are required")
	}
	c, err := api.client(e, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot token request: %v\n", err)
		return exitUsage
	}
	if err := c.RequestToken(ctx, addr, *org, *project); err != nil {
		return tokenError(e, "request", err, "if Bakong no longer offers this call, register at https://api-bakong.nbc.gov.kh/register")
	}
	if api.json {
		printJSON(e.stdout, map[string]any{"ok": true, "email": addr})
		return exitOK
	}
	fmt.Fprintf(e.stdout, "Bakong emailed a verification code to %s.\nNext: khqrbot token verify CODE\n", addr)
	return exitOK
}

func tokenVerify(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "verify", "verify CODE\n\nSwaps the 20-character code Bakong emailed for a token, printed as BAKONG_TOKEN=...")
	api := addAPIFlags(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) != 1 {
		return usageError(fs, "give the CODE from Bakong's email")
	}
	c, err := api.client(e, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot token verify: %v\n", err)
		return exitUsage
	}
	tok, err := c.VerifyCode(ctx, pos[0])
	if err != nil {
		return tokenError(e, "verify", err, "")
	}
	return printToken(e, api.json, tok)
}

func tokenRenew(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "renew", "renew [--email E]\n\nAsks Bakong for a new token for the registered email and prints it as BAKONG_TOKEN=...\nThe old token may stop working: put the new one where the bot runs.")
	email := fs.String("email", "", "registered `EMAIL` (default $BAKONG_EMAIL)")
	api := addAPIFlags(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	addr := envDefault(e, *email, "BAKONG_EMAIL")
	if addr == "" {
		return usageError(fs, "no email: set BAKONG_EMAIL or pass --email")
	}
	c, err := api.client(e, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot token renew: %v\n", err)
		return exitUsage
	}
	tok, err := c.RenewToken(ctx, addr)
	if err != nil {
		return tokenError(e, "renew", err, "")
	}
	fmt.Fprintln(e.stderr, "khqrbot token renew: the old token may stop working; put the new one where the bot runs")
	return printToken(e, api.json, tok)
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

func tokenError(e *env, sub string, err error, extra string) int {
	fmt.Fprintf(e.stderr, "khqrbot token %s: %v\n", sub, err)
	if h := hint(err); h != "" && !bakong.IsKind(err, bakong.KindUnauthorized) {
		fmt.Fprintf(e.stderr, "  %s\n", h)
	}
	if extra != "" && bakong.IsKind(err, bakong.KindAPI) {
		fmt.Fprintf(e.stderr, "  %s\n", extra)
	}
	return errorExit(err)
}
