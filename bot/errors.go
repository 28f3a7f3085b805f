package bot

import (
	"context"
	"errors"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// fail tells the user what went wrong, in their language, and logs the
// details of unexpected failures.
func (b *Bot) fail(ctx context.Context, r *req, err error) {
	b.reply(ctx, r.chat, b.errText(r.p, err), nil)
}

// errText phrases a domain error for people.
func (b *Bot) errText(p *locales.Printer, err error) string {
	switch {
	case errors.Is(err, payments.ErrLiveQRLimit):
		return p.T("qr.limit_live")
	case errors.Is(err, payments.ErrHourlyQRLimit):
		return p.T("qr.limit_hourly")
	}
	switch payments.ErrorCode(err) {
	case payments.ENotFound:
		return p.T("err.not_found")
	case payments.EInvalid:
		return p.T("err.invalid", payments.ErrorMessage(err))
	case payments.EConflict:
		return p.T("err.conflict", payments.ErrorMessage(err))
	case payments.EForbidden:
		return p.T("deny.button")
	case payments.EUnavailable:
		return p.T("err.unavailable")
	}
	b.log.Error("unexpected error", "err", err)
	return p.T("err.internal")
}

// amountText phrases an amount error, with what would have been accepted.
func amountText(p *locales.Printer, err error) string {
	var ae *AmountError
	if !errors.As(err, &ae) {
		return p.T("amount.syntax", "")
	}
	switch ae.Problem {
	case AmountMissing:
		return p.T("amount.missing")
	case AmountTooLarge:
		return p.T("amount.too_large", quote(ae.Input), payments.Money{Amount: payments.MaxAmount, Currency: ae.Currency}.String())
	}
	return p.T("amount."+string(ae.Problem), quote(ae.Input))
}
