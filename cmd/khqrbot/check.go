package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// Exit codes of the Bakong tool commands (check, token, account, deeplink).
const (
	exitOK       = 0 // found, exists, done
	exitNo       = 1 // not found, account unknown or invalid, token expired
	exitUsage    = 2 // bad flags or configuration
	exitAPI      = 3 // Bakong or the network failed: unauthorized, geo-blocked, rate limited, unavailable, API error
	exitFailed   = 4 // Bakong recorded the transaction as failed
	exitDisagree = 5 // check --compare: the endpoints' answers differ
)

const exitCodesHelp = `Exit codes: 0 found or ok, 1 not found (or account unknown, token expired),
2 usage or configuration error, 3 Bakong or network error (unauthorized,
geo-blocked, rate limited, unavailable, API error), 4 transaction failed,
5 check --compare: the endpoints disagree.`

// apiFlags are the Open API settings the tool commands share: environment
// variables, overridden by flags. Defaults never show the token in -h.
type apiFlags struct {
	url, token, proxy string
	timeout           time.Duration
	json, verbose     bool
	withToken         bool
}

func addAPIFlags(fs *flag.FlagSet, withToken bool) *apiFlags {
	a := &apiFlags{withToken: withToken}
	fs.StringVar(&a.url, "api-url", "", "Open API base `URL` (default $BAKONG_API_URL, else "+bakong.DefaultBaseURL+")")
	if withToken {
		fs.StringVar(&a.token, "token", "", "Open API `TOKEN` (default $BAKONG_TOKEN)")
	}
	fs.StringVar(&a.proxy, "proxy-url", "", "HTTP proxy `URL` in Cambodia for these calls (default $BAKONG_PROXY_URL)")
	fs.DurationVar(&a.timeout, "timeout", bakong.DefaultTimeout, "give up on a call after this `DURATION`")
	fs.BoolVar(&a.json, "json", false, "print JSON for scripts")
	fs.BoolVar(&a.verbose, "v", false, "print each HTTP call (endpoint, request id, status, codes, latency) on stderr")
	return a
}

// resolve fills what the flags left empty from the environment.
func (a *apiFlags) resolve(e *env) {
	if a.url == "" {
		a.url = e.getenv("BAKONG_API_URL")
	}
	if a.url == "" {
		a.url = bakong.DefaultBaseURL
	}
	if a.withToken && a.token == "" {
		a.token = e.getenv("BAKONG_TOKEN")
	}
	if a.proxy == "" {
		a.proxy = e.getenv("BAKONG_PROXY_URL")
	}
}

// client builds the Open API client. The token is fixed: a tool command
// never renews behind the operator's back (renewing may revoke the token
// the running bot uses).
func (a *apiFlags) client(e *env, si *bakong.SourceInfo) (*bakong.Client, error) {
	a.resolve(e)
	o := bakong.Options{
		BaseURL:    a.url,
		ProxyURL:   a.proxy,
		Timeout:    a.timeout,
		UserAgent:  bakong.UserAgent(buildVersion()),
		SourceInfo: si,
	}
	if a.withToken {
		o.Tokens = bakong.StaticToken(a.token)
	}
	if a.verbose {
		o.Observer = func(c bakong.Call) {
			fmt.Fprintf(e.stderr, "bakong: %s id=%s HTTP %d responseCode %d errorCode %d in %s",
				c.Endpoint, c.RequestID, c.HTTPStatus, c.ResponseCode, c.ErrorCode, c.Latency.Round(time.Millisecond))
			if c.Err != "" {
				fmt.Fprintf(e.stderr, ": %s", c.Err)
			}
			fmt.Fprintln(e.stderr)
		}
	}
	return bakong.New(o)
}

// parseArgs parses flags wherever they stand among the positional
// arguments, which it returns. It reports -h as flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseExit turns a parse error into an exit code.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// usageError prints a usage problem and the command's usage.
func usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(fs.Output(), "khqrbot %s: %s\n\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// errorExit is the exit code of a failed call: 2 for a request refused
// locally (bad input), else 3.
func errorExit(err error) int {
	if bakong.IsKind(err, bakong.KindInvalid) {
		return exitUsage
	}
	return exitAPI
}

// hint is advice for an error kind, for people.
func hint(err error) string {
	var e *bakong.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Kind {
	case bakong.KindUnauthorized:
		return "check BAKONG_TOKEN ('khqrbot token status'); renew it with 'khqrbot token renew'"
	case bakong.KindRateLimited:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("try again in %s", e.RetryAfter)
		}
		return "try again later"
	case bakong.KindUnavailable:
		return "Bakong or the network is down: try again later (an outage never means unpaid)"
	case bakong.KindListRefused:
		return "check one by one instead"
	}
	return ""
}

// errorJSON is an error as --json prints it.
type errorJSON struct {
	Kind       string `json:"kind"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	ErrorCode  int    `json:"errorCode,omitempty"`
	RetryAfter int    `json:"retryAfterSeconds,omitempty"`
	Message    string `json:"message"`
}

func errJSON(err error) *errorJSON {
	if err == nil {
		return nil
	}
	out := &errorJSON{Kind: "error", Message: err.Error()}
	var e *bakong.Error
	if errors.As(err, &e) {
		out.Kind, out.HTTPStatus, out.ErrorCode = string(e.Kind), e.HTTPStatus, e.ErrorCode
		out.RetryAfter = int(e.RetryAfter.Round(time.Second) / time.Second)
	}
	return out
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// outcome is the answer to one lookup.
type outcome struct {
	by  string // md5, hash, short hash, ...
	key string
	tx  *bakong.Transaction
	err error
}

func (o outcome) status() string {
	switch {
	case o.err == nil:
		return "found"
	case errors.Is(o.err, bakong.ErrNotFound):
		return "not_found"
	case errors.Is(o.err, bakong.ErrFailed):
		return "failed"
	}
	return "error"
}

func (o outcome) exit() int {
	switch o.status() {
	case "found":
		return exitOK
	case "not_found":
		return exitNo
	case "failed":
		return exitFailed
	}
	return errorExit(o.err)
}

// txJSON is a transaction as --json prints it; amount is in minor units.
type txJSON struct {
	Hash                string `json:"hash"`
	ShortHash           string `json:"shortHash"`
	FromAccountID       string `json:"fromAccountId"`
	ToAccountID         string `json:"toAccountId"`
	Currency            string `json:"currency"`
	Amount              int64  `json:"amount"`
	AmountText          string `json:"amountText"`
	Description         string `json:"description,omitempty"`
	CreatedDateMs       int64  `json:"createdDateMs"`
	AcknowledgedDateMs  int64  `json:"acknowledgedDateMs"`
	TrackingStatus      string `json:"trackingStatus,omitempty"`
	ReceiverBank        string `json:"receiverBank,omitempty"`
	ReceiverBankAccount string `json:"receiverBankAccount,omitempty"`
	InstructionRef      string `json:"instructionRef,omitempty"`
	ExternalRef         string `json:"externalRef,omitempty"`
}

func toJSON(t *bakong.Transaction) *txJSON {
	if t == nil {
		return nil
	}
	return &txJSON{
		Hash: t.Hash, ShortHash: t.ShortHash(), FromAccountID: t.FromAccountID, ToAccountID: t.ToAccountID,
		Currency: t.Currency, Amount: t.Amount, AmountText: money(t), Description: t.Description,
		CreatedDateMs: t.CreatedDateMs, AcknowledgedDateMs: t.AcknowledgedDateMs, TrackingStatus: t.TrackingStatus,
		ReceiverBank: t.ReceiverBank, ReceiverBankAccount: t.ReceiverBankAccount,
		InstructionRef: t.InstructionRef, ExternalRef: t.ExternalRef,
	}
}

type outcomeJSON struct {
	By          string     `json:"by"`
	Key         string     `json:"key"`
	Outcome     string     `json:"outcome"`
	Transaction *txJSON    `json:"transaction,omitempty"`
	Error       *errorJSON `json:"error,omitempty"`
}

func (o outcome) json() outcomeJSON {
	j := outcomeJSON{By: o.by, Key: o.key, Outcome: o.status(), Transaction: toJSON(o.tx)}
	if o.status() == "error" {
		j.Error = errJSON(o.err)
	}
	return j
}

func money(t *bakong.Transaction) string {
	return payments.Money{Amount: t.Amount, Currency: khqr.Currency(t.Currency)}.String()
}

func msTime(ms int64) string {
	if ms == 0 {
		return ""
	}
	return fmt.Sprintf("%s (%d)", time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 MST"), ms)
}

// txFields are a transaction's fields in print order, empty ones included.
func txFields(t *bakong.Transaction) [][2]string {
	if t == nil {
		return nil
	}
	return [][2]string{
		{"amount", money(t)},
		{"hash", t.Hash},
		{"short hash", t.ShortHash()},
		{"from", t.FromAccountID},
		{"to", t.ToAccountID},
		{"description", t.Description},
		{"created", msTime(t.CreatedDateMs)},
		{"acknowledged", msTime(t.AcknowledgedDateMs)},
		{"external ref", t.ExternalRef},
		{"instruction ref", t.InstructionRef},
		{"tracking status", t.TrackingStatus},
		{"receiver bank", t.ReceiverBank},
		{"receiver account", t.ReceiverBankAccount},
	}
}

func printOutcome(w io.Writer, o outcome) {
	switch o.status() {
	case "found":
		fmt.Fprintf(w, "FOUND by %s %s\n", o.by, o.key)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range txFields(o.tx) {
			if f[1] != "" {
				fmt.Fprintf(tw, "  %s\t%s\n", f[0], f[1])
			}
		}
		tw.Flush()
	case "not_found":
		fmt.Fprintf(w, "NOT FOUND by %s %s: not paid yet, or an expired or static QR, or a wrong %s\n", o.by, o.key, o.by)
	case "failed":
		fmt.Fprintf(w, "FAILED: Bakong recorded the transaction for %s %s as failed\n", o.by, o.key)
	default:
		fmt.Fprintf(w, "ERROR asking by %s %s: %v\n", o.by, o.key, o.err)
		if h := hint(o.err); h != "" {
			fmt.Fprintf(w, "  %s\n", h)
		}
	}
}

func runCheck(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	md5 := fs.String("md5", "", "`MD5` of the exact KHQR string (32 hex digits)")
	hash := fs.String("hash", "", "full transaction `hash` (64 hex digits)")
	short := fs.String("short-hash", "", "short `hash` from a receipt (8 hex digits); needs --amount and --currency")
	amount := fs.String("amount", "", "`AMOUNT` paid, a decimal like 5, 10.50 or 50000 (with --short-hash)")
	currency := fs.String("currency", "", "`KHR or USD` (with --short-hash)")
	instr := fs.String("instruction-ref", "", "payer's instruction `REF`")
	ext := fs.String("external-ref", "", "payer bank's `REF`, like 100FT38906478429")
	compare := fs.String("compare", "", "ask by this `MD5`, then by the full hash and the short hash it found, side by side")
	api := addAPIFlags(fs, true)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: khqrbot check --md5 X | --hash X | --short-hash X --amount A --currency C |")
		fmt.Fprintln(w, "                     --instruction-ref X | --external-ref X | --compare MD5  [flags]")
		fmt.Fprintln(w, "\nAsks the Bakong Open API about one payment and prints what it says.")
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintln(w, "\n"+exitCodesHelp)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	set := 0
	for _, v := range []string{*md5, *hash, *short, *instr, *ext, *compare} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return usageError(fs, "give exactly one of --md5, --hash, --short-hash, --instruction-ref, --external-ref, --compare")
	}
	if (*amount != "" || *currency != "") && *short == "" {
		return usageError(fs, "--amount and --currency go with --short-hash")
	}
	var minor int64
	if *short != "" {
		if *amount == "" || *currency == "" {
			return usageError(fs, "--short-hash needs --amount and --currency")
		}
		cur, err := khqr.ParseCurrency(*currency)
		if err != nil {
			return usageError(fs, "--currency: %v", err)
		}
		if minor, err = khqr.ParseAmount(*amount, cur); err != nil {
			return usageError(fs, "--amount: %v", err)
		}
		*currency = string(cur)
	}
	c, err := api.client(e, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot check: %v\n", err)
		return exitUsage
	}
	if *compare != "" {
		return runCompare(ctx, e, c, api.json, *compare)
	}
	var o outcome
	switch {
	case *md5 != "":
		o = outcome{by: "md5", key: *md5}
		o.tx, o.err = c.CheckMD5(ctx, *md5)
	case *hash != "":
		o = outcome{by: "hash", key: *hash}
		o.tx, o.err = c.CheckHash(ctx, *hash)
	case *short != "":
		o = outcome{by: "short hash", key: *short}
		o.tx, o.err = c.CheckShortHash(ctx, *short, minor, *currency)
	case *instr != "":
		o = outcome{by: "instruction ref", key: *instr}
		o.tx, o.err = c.CheckInstructionRef(ctx, *instr)
	default:
		o = outcome{by: "external ref", key: *ext}
		o.tx, o.err = c.CheckExternalRef(ctx, *ext)
	}
	if api.json {
		printJSON(e.stdout, o.json())
	} else {
		printOutcome(e.stdout, o)
	}
	return o.exit()
}

// runCompare asks by md5, then by the full hash and the short hash of what
// it found, and prints the three answers side by side.
func runCompare(ctx context.Context, e *env, c *bakong.Client, asJSON bool, md5 string) int {
	outs := []outcome{{by: "md5", key: md5}}
	outs[0].tx, outs[0].err = c.CheckMD5(ctx, md5)
	if t := outs[0].tx; t != nil {
		h := outcome{by: "hash", key: t.Hash}
		h.tx, h.err = c.CheckHash(ctx, t.Hash)
		s := outcome{by: "short hash", key: t.ShortHash()}
		s.tx, s.err = c.CheckShortHash(ctx, t.ShortHash(), t.Amount, t.Currency)
		outs = append(outs, h, s)
	}
	code := outs[0].exit()
	diff := differing(outs)
	for _, o := range outs[1:] {
		if o.status() == "error" {
			code = errorExit(o.err)
		}
	}
	if code == exitOK && (len(diff) > 0 || !allFound(outs)) {
		code = exitDisagree
	}
	if asJSON {
		js := make([]outcomeJSON, len(outs))
		for i, o := range outs {
			js[i] = o.json()
		}
		printJSON(e.stdout, struct {
			Answers []outcomeJSON `json:"answers"`
			Agree   bool          `json:"agree"`
			Differ  []string      `json:"differ,omitempty"`
		}{js, code == exitOK, diff})
		return code
	}
	if len(outs) == 1 {
		printOutcome(e.stdout, outs[0])
		return code
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tby md5\tby hash\tby short hash\t")
	row := func(name string, vals []string, differs bool) {
		mark := ""
		if differs {
			mark = "<- differs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, strings.Join(vals, "\t"), mark)
	}
	status := make([]string, len(outs))
	for i, o := range outs {
		status[i] = strings.ReplaceAll(o.status(), "_", " ")
	}
	row("outcome", status, !allFound(outs))
	fields := make([][][2]string, len(outs))
	for i, o := range outs {
		fields[i] = txFields(o.tx)
	}
	for j, f := range fields[0] {
		vals := make([]string, len(outs))
		for i := range outs {
			switch {
			case fields[i] == nil:
				vals[i] = "-"
			case i > 0 && fields[i][j][1] == f[1]:
				vals[i] = "same"
			case fields[i][j][1] == "":
				vals[i] = "-"
			default:
				vals[i] = fields[i][j][1]
			}
		}
		row(f[0], vals, slices.Contains(diff, f[0]))
	}
	tw.Flush()
	for l := range strings.Lines(table.String()) {
		fmt.Fprintln(e.stdout, strings.TrimRight(l, " \n"))
	}
	for _, o := range outs {
		if o.status() == "error" {
			fmt.Fprintf(e.stdout, "by %s: %v\n", o.by, o.err)
		}
	}
	return code
}

// differing names the fields whose values differ between found answers.
func differing(outs []outcome) []string {
	var diff []string
	base := txFields(outs[0].tx)
	for j, f := range base {
		for _, o := range outs[1:] {
			if o.tx != nil && txFields(o.tx)[j][1] != f[1] {
				diff = append(diff, f[0])
				break
			}
		}
	}
	return diff
}

func allFound(outs []outcome) bool {
	for _, o := range outs {
		if o.tx == nil {
			return false
		}
	}
	return true
}
