package bot

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

// stamp formats a time for CSV, empty when zero.
func (b *Bot) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(b.loc).Format(time.RFC3339)
}

// cell neutralises a text cell a spreadsheet would run as a formula, as
// OWASP advises for CSV injection: a cell starting with = + - @, a tab or a
// carriage return gets a leading single quote, which spreadsheets show as
// text. Numbers and times we format ourselves are never passed through it,
// so a group's negative chat id stays a number.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// invoicesCSV writes invoices as RFC 4180 CSV.
func (b *Bot) invoicesCSV(invs []payments.Invoice) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write([]string{"invoice", "kind", "status", "amount", "currency", "description", "created_by", "chat_id", "created_at", "paid_at"})
	for _, inv := range invs {
		w.Write([]string{inv.Number, string(inv.Kind), string(inv.Status), inv.Amount.Decimal(), string(inv.Amount.Currency),
			cell(inv.Description), strconv.FormatInt(inv.CreatedBy, 10), strconv.FormatInt(inv.ChatID, 10),
			b.stamp(inv.CreatedAt), b.stamp(inv.PaidAt)})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// paymentsCSV writes payments as RFC 4180 CSV.
func (b *Bot) paymentsCSV(pays []payments.Payment) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write([]string{"invoice", "hash", "short_hash", "status", "amount", "currency", "from_account", "to_account",
		"paid_at", "source", "reason", "external_ref", "instruction_ref", "md5"})
	for _, p := range pays {
		w.Write([]string{payments.InvoiceNumber(p.InvoiceID), cell(p.Hash), cell(p.ShortHash), string(p.Status), p.Amount.Decimal(),
			string(p.Amount.Currency), cell(p.FromAccount), cell(p.ToAccount), b.stamp(p.PaidAt), cell(p.Source), cell(p.Reason),
			cell(p.ExternalRef), cell(p.InstructionRef), cell(p.MD5)})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
