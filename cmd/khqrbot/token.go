package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// tokenUsage lists the token subcommands.
func tokenUsage(w io.Writer) {
	fmt.Fprintln(w, `Usage: khqrbot token status [--bakong-token T] [--email E] [--json]
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
	ExpiresAt time.Time  `json:"expiresAt"`
	DaysLeft  int        `json:"daysLeft"`
	Expired   bool       `json:"expired"`
	Renewable bool       `json:"renewable"`
	RenewAt   *time.Time `json:"renewAt,omitempty"`
	Summary   string     `json:"summary"`
}

func tokenStatus(ctx context.Context, e *env, args []string) int {
	fs := tokenFlags(e, "status", "[--bakong-token T] [--email E] [--json]", "Decodes the token's expiry locally; no call to Bakong.")
	sf := newSettingFlags(fs)
	sf.add("BAKONG_TOKEN", flagName("BAKONG_TOKEN"))
	sf.add("BAKONG_EMAIL", "email")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	r := sf.reader(e.getenv)
	t, email := r.bakongToken(), r.bakongEmail()
	if err := r.err(); err != nil {
		return cmdError(e, fs, exitUsage, err)
	}
	if t == "" {
		return cmdError(e, fs, exitUsage, errors.New("no token: set BAKONG_TOKEN or pass --bakong-token"))
	}
	if _, err := bakong.DecodeExpiry(t); err != nil {
		return cmdError(e, fs, exitUsage, fmt.Errorf("BAKONG_TOKEN cannot be read: %v; copy it again from the token email", err))
	}
	m, err := bakong.NewTokenManager(ctx, bakong.TokenConfig{Token: t, Email: email})
	if err != nil {
		return cmdError(e, fs, exitUsage, err)
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
