package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// runQR is "khqrbot qr": encode, decode and verify a KHQR, or draw its card.
func runQR(ctx context.Context, e *env, args []string) int {
	return runSubcommand(ctx, e, "qr", qrUsage, []subcommand{
		{"encode", qrEncode}, {"decode", qrDecode}, {"verify", qrVerify}, {"image", qrImage},
	}, args)
}

// qrUsage lists the qr subcommands.
func qrUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: khqrbot qr SUBCOMMAND [flags]

Subcommands:
  encode  build a KHQR from flags and print it (or {"qr","md5"} with --json)
  decode  print a KHQR's fields as JSON, with the keys of the SDK's decode()
  verify  check a KHQR's CRC and rules: prints "valid", or exits 1 with the reason
  image   draw a KHQR's card as PNG

'khqrbot qr SUBCOMMAND -h' shows its flags. Where a QR is expected, "-" reads it from stdin.

`+qrExitCodes+"\n")
}

// qrExitCodes documents the exit codes of the qr subcommands.
const qrExitCodes = `Exit codes: 0 done (verify: valid), 1 the KHQR or its fields are invalid,
2 usage error, 3 reading or writing failed.`

// qrFlags makes a subcommand's flag set.
func qrFlags(e *env, name, synopsis, about string) *flag.FlagSet {
	return newFlags(e, "qr "+name, synopsis, about, qrExitCodes)
}

// qrArg reads the single QR argument of a command; "-" reads it from
// stdin. It reports a usage error (code 2) or a failed read (code 3).
func qrArg(e *env, fs *flag.FlagSet, pos []string) (string, int) {
	if len(pos) != 1 {
		return "", usageError(fs, "want one KHQR string, or - to read it from stdin; got %d arguments", len(pos))
	}
	if pos[0] != "-" {
		return pos[0], exitOK
	}
	b, err := io.ReadAll(e.stdin)
	if err != nil {
		return "", cmdError(e, fs, exitError, fmt.Errorf("read stdin: %w", err))
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", usageError(fs, "no QR on stdin")
	}
	return s, exitOK
}

// qrEncode is "qr encode": flags to Info, Encode, print. It is long because
// it declares a flag for every field of a KHQR, one a line.
func qrEncode(_ context.Context, e *env, args []string) int {
	fs := qrFlags(e, "encode", "--account ID --name NAME [flags]",
		`Builds a KHQR exactly as NBC's bakong-khqr SDK 1.0.20 does and prints it.
With --merchant-id (and --bank) it is a merchant KHQR (tag 30), else an
individual one (tag 29). An --amount other than 0 makes it dynamic: it then
expires at --expires-at, or --ttl after its creation (default 10m, the NBC
maximum). A static QR has no amount and no expiry; --expires-at and --ttl
are ignored for it, as the SDK does.
--amount is a decimal: "5", "10.5", "0.01", "50000" (KHR takes no decimals,
USD at most 2). Like the SDK given a number, "5" is written 5; with an
explicit point, like the SDK given the string "5.00", "5.00" is written 5.00.`)
	var (
		i                    khqr.Info
		cur, amount          string
		createdAt, expiresAt int64
		ttl                  time.Duration
		asJSON               bool
	)
	fs.StringVar(&i.AccountID, "account", "", "Bakong account `ID`, name@bank (required)")
	fs.StringVar(&i.MerchantName, "name", "", "merchant `NAME`, at most 25 characters (required)")
	fs.StringVar(&i.MerchantCity, "city", "", "merchant `CITY` (default \"Phnom Penh\")")
	fs.StringVar(&cur, "currency", "KHR", "`CURRENCY`: KHR or USD")
	fs.StringVar(&amount, "amount", "", "`AMOUNT` as a decimal; absent or 0 makes a static QR")
	fs.StringVar(&i.MerchantID, "merchant-id", "", "merchant `ID`: makes a merchant KHQR (tag 30 sub 01)")
	fs.StringVar(&i.AcquiringBank, "bank", "", "acquiring `BANK` (tag 29/30 sub 02); required with --merchant-id")
	fs.StringVar(&i.AccountInformation, "account-info", "", "account `INFORMATION` of an individual KHQR (tag 29 sub 01)")
	fs.StringVar(&i.BillNumber, "bill", "", "bill `NUMBER` (tag 62 sub 01)")
	fs.StringVar(&i.MobileNumber, "mobile", "", "mobile `NUMBER` (tag 62 sub 02)")
	fs.StringVar(&i.StoreLabel, "store", "", "store `LABEL` (tag 62 sub 03)")
	fs.StringVar(&i.TerminalLabel, "terminal", "", "terminal `LABEL` (tag 62 sub 07)")
	fs.StringVar(&i.Purpose, "purpose", "", "`PURPOSE` of the transaction (tag 62 sub 08)")
	fs.StringVar(&i.LanguagePreference, "lang", "", "alternate `LANGUAGE`, e.g. km (tag 64 sub 00); needs --alt-name")
	fs.StringVar(&i.MerchantNameAlt, "alt-name", "", "merchant `NAME` in that language (tag 64 sub 01)")
	fs.StringVar(&i.MerchantCityAlt, "alt-city", "", "merchant `CITY` in that language (tag 64 sub 02)")
	fs.StringVar(&i.MCC, "mcc", "", "merchant category `CODE`, 4 digits (default 5999)")
	fs.StringVar(&i.UPI, "upi", "", "UnionPay merchant `ACCOUNT` (tag 15), KHR only")
	fs.Int64Var(&createdAt, "created-at", 0, "creation time in Unix `MS` (default now)")
	fs.Int64Var(&expiresAt, "expires-at", 0, "expiration time in Unix `MS` of a dynamic QR")
	fs.DurationVar(&ttl, "ttl", 0, "lifetime of a dynamic QR (`DURATION`, default "+shortDuration(payments.DefaultQRTTL)+")")
	fs.BoolVar(&asJSON, "json", false, `print {"qr":...,"md5":...}`)
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	switch {
	case i.AccountID == "":
		return usageError(fs, "--account is required")
	case i.MerchantName == "":
		return usageError(fs, "--name is required")
	case expiresAt != 0 && ttl != 0:
		return usageError(fs, "give --expires-at or --ttl, not both")
	case ttl < 0:
		return usageError(fs, "--ttl %v: want a positive duration", ttl)
	}
	c, err := khqr.ParseCurrency(cur)
	if err != nil {
		return usageError(fs, "--currency: %v", err)
	}
	i.Currency = c
	if amount != "" {
		if i.Amount, err = khqr.ParseAmount(amount, c); err != nil {
			return usageError(fs, "--amount: %v", err)
		}
		i.FixedDecimals = strings.Contains(amount, ".")
	}
	now := time.Now()
	if createdAt != 0 {
		now = time.UnixMilli(createdAt)
	}
	switch {
	case expiresAt != 0:
		i.ExpiresAt = time.UnixMilli(expiresAt)
	case ttl != 0:
		i.ExpiresAt = now.Add(ttl)
	default:
		i.ExpiresAt = now.Add(payments.DefaultQRTTL) // as QR_TTL, the NBC maximum
	}
	qr, err := khqr.Encode(i, now)
	if err != nil {
		return cmdError(e, fs, exitNo, err)
	}
	if !asJSON {
		fmt.Fprintln(e.stdout, qr.String)
		return exitOK
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		QR  string `json:"qr"`
		MD5 string `json:"md5"`
	}{qr.String, qr.MD5}); err != nil {
		return cmdError(e, fs, exitError, err)
	}
	return exitOK
}

// qrDecode is "qr decode": print the SDK decode() object.
func qrDecode(_ context.Context, e *env, args []string) int {
	fs := qrFlags(e, "decode", "QR",
		`Prints the fields of a KHQR as one JSON object with the keys of the SDK's
decode() (pointOfInitiationMethod spelled with a capital O): each value a
string as written in the QR, or null when absent. Like the SDK it checks
neither the CRC nor the rules (see 'qr verify'); unlike it, it exits 1 on a
string whose TLV structure is broken, saying where.`)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	s, code := qrArg(e, fs, pos)
	if code != exitOK {
		return code
	}
	d, err := khqr.Decode(s)
	if err != nil {
		return cmdError(e, fs, exitNo, err)
	}
	b, err := d.MarshalJSON()
	if err != nil {
		return cmdError(e, fs, exitNo, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return cmdError(e, fs, exitNo, err)
	}
	out.WriteByte('\n')
	if _, err := e.stdout.Write(out.Bytes()); err != nil {
		return cmdError(e, fs, exitError, err)
	}
	return exitOK
}

// qrVerify is "qr verify": print valid, or the reason and exit 1.
func qrVerify(_ context.Context, e *env, args []string) int {
	fs := qrFlags(e, "verify", "QR [--at MS]",
		`Checks a KHQR's CRC and rules as the SDK's verify() does, and the stricter
rules of package khqr (amount format per currency, country KH...). Prints
"valid" and exits 0, or prints "invalid: " and the reason, with the SDK's
error code where one applies, and exits 1. A dynamic QR is valid up to and
including its expiration millisecond.`)
	at := fs.Int64("at", 0, "check at this Unix time in `MS` (default now)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	s, code := qrArg(e, fs, pos)
	if code != exitOK {
		return code
	}
	now := time.Now()
	if *at != 0 {
		now = time.UnixMilli(*at)
	}
	if err := khqr.Verify(s, now); err != nil {
		fmt.Fprintf(e.stdout, "invalid: %s\n", strings.TrimPrefix(err.Error(), "khqr: "))
		return exitNo
	}
	fmt.Fprintln(e.stdout, "valid")
	return exitOK
}

// qrImage is "qr image": draw the card of a dynamic KHQR.
func qrImage(_ context.Context, e *env, args []string) int {
	fs := qrFlags(e, "image", "QR [-o FILE] [--state STATE] [--lang en|km] [--name NAME]",
		`Draws the card the bot sends for a dynamic KHQR: merchant name, amount,
currency, the QR and its expiry; or, with --state, the card that replaces it.
A paid card needs --short-hash. Writes PNG to FILE, or to stdout.
The card's words are in --lang. The name shown is --name, else, with
--lang km, the QR's Khmer name (tag 64) when it has one, else its merchant
name (tag 59).`)
	file := fs.String("o", "", "write the PNG to `FILE` (default stdout)")
	state := fs.String("state", string(card.StatePending), "card `STATE`: pending, paid, expired, failed or cancelled")
	shortHash := fs.String("short-hash", "", "paid card: the payment's short `HASH` (required with --state paid)")
	paidAt := fs.Int64("paid-at", 0, "paid card: payment time in Unix `MS` (default now)")
	sandbox := fs.Bool("sandbox", false, "mark the card SANDBOX")
	lang := fs.String("lang", locales.English, "`LANGUAGE` of the card's words: en or km")
	name := fs.String("name", "", "display `NAME` of the merchant (default from the QR)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	s, code := qrArg(e, fs, pos)
	if code != exitOK {
		return code
	}
	if err := card.State(*state).Validate(); err != nil {
		return usageError(fs, "--state: %v", err)
	}
	if card.State(*state) == card.StatePaid && *shortHash == "" {
		return usageError(fs, "--state paid needs --short-hash")
	}
	if !locales.Supported(*lang) {
		return usageError(fs, "--lang %q: want en or km", *lang)
	}
	c, err := qrCard(s, card.State(*state), *lang)
	if err != nil {
		return cmdError(e, fs, exitNo, err)
	}
	c.Sandbox = *sandbox
	if *name != "" {
		c.MerchantName = *name
	}
	if c.State == card.StatePaid {
		c.ShortHash, c.PaidAt = *shortHash, time.Now()
		if *paidAt != 0 {
			c.PaidAt = time.UnixMilli(*paidAt)
		}
	}
	png, err := card.Render(c)
	if err != nil {
		return cmdError(e, fs, exitNo, err)
	}
	if *file == "" {
		_, err = e.stdout.Write(png)
	} else {
		err = os.WriteFile(*file, png, 0o644)
	}
	if err != nil {
		return cmdError(e, fs, exitError, err)
	}
	return exitOK
}

// qrCard fills a card in lang from a KHQR: the bill number stands for the
// invoice number, and the merchant name is the QR's name in lang when it
// has one.
func qrCard(qr string, state card.State, lang string) (card.Card, error) {
	d, err := khqr.Decode(qr)
	if err != nil {
		return card.Card{}, err
	}
	i, err := d.Info()
	if err != nil {
		return card.Card{}, err
	}
	if i.Amount == 0 {
		return card.Card{}, errors.New("a static KHQR has no amount to show: the card is for a dynamic one")
	}
	m := payments.Money{Amount: i.Amount, Currency: i.Currency}
	c := card.Card{
		State:         state,
		MerchantName:  i.MerchantName,
		Amount:        m.Number(),
		Currency:      string(i.Currency),
		QR:            qr,
		InvoiceNumber: i.BillNumber,
		ExpiresAt:     i.ExpiresAt,
		Lang:          lang,
	}
	if i.MerchantNameAlt != "" && locales.Match(i.LanguagePreference) == lang && lang != locales.English {
		c.MerchantName = i.MerchantNameAlt
	}
	return c, nil
}
