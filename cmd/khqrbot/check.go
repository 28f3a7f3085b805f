package main

import (
	"context"
	"errors"
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
		printError(w, "asking by "+o.by+" "+o.key, o.err)
	}
}

func runCheck(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "check", `--md5 X | --hash X | --short-hash X --amount A --currency C |
                     --instruction-ref X | --external-ref X | --compare MD5  [flags]`,
		"Asks the Bakong Open API about one payment and prints what it says.",
		exitCodesHelp+"\n4 transaction failed, 5 check --compare: the endpoints disagree.")
	md5 := fs.String("md5", "", "`MD5` of the exact KHQR string (32 hex digits)")
	hash := fs.String("hash", "", "full transaction `hash` (64 hex digits)")
	short := fs.String("short-hash", "", "short `hash` from a receipt (8 hex digits); needs --amount and --currency")
	amount := fs.String("amount", "", "`AMOUNT` paid, a decimal like 5, 10.50 or 50000 (with --short-hash)")
	currency := fs.String("currency", "", "`KHR or USD` (with --short-hash)")
	instr := fs.String("instruction-ref", "", "payer's instruction `REF`")
	ext := fs.String("external-ref", "", "payer bank's `REF`, like 100FT38906478429")
	compare := fs.String("compare", "", "ask by this `MD5`, then by the full hash and the short hash it found, side by side")
	api := addAPIFlags(fs, true)
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
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
	c := api.client(e, nil)
	if c == nil {
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
	printComparison(e.stdout, outs, diff)
	for _, o := range outs {
		if o.status() == "error" {
			fmt.Fprintf(e.stdout, "by %s: %v\n", o.by, o.err)
		}
	}
	return code
}

// printComparison writes the answers side by side, one row per field,
// marking the fields whose values differ.
func printComparison(w io.Writer, outs []outcome, diff []string) {
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
		fmt.Fprintln(w, strings.TrimRight(l, " \n"))
	}
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
