package payments

import (
	"errors"
	"fmt"
)

// Error codes: what kind of failure an Error is, so the bot can phrase it and
// callers can branch without matching text.
const (
	EInvalid     = "invalid"     // bad input: the message says what was expected
	ENotFound    = "not_found"   // no such invoice, QR or payment
	EConflict    = "conflict"    // the state forbids it (already paid, cancelled, ...)
	EForbidden   = "forbidden"   // the user may not do this
	EUnavailable = "unavailable" // Bakong or the database cannot answer now
	EInternal    = "internal"    // a bug or an unexpected failure
)

// Causes that share a code but call for different answers: they come wrapped
// in an *Error, so callers test them with errors.Is.
var (
	// ErrPaymentFailed: Bakong recorded the transaction as failed, so no
	// money moved and the customer must pay again (an EConflict).
	ErrPaymentFailed = errors.New("payments: transaction failed")
	// ErrRecordedElsewhere: the transaction is already recorded for another
	// invoice, so it cannot settle this one too (an EConflict). It comes
	// as a *RecordedElsewhere, which names that invoice.
	ErrRecordedElsewhere = errors.New("payments: transaction recorded for another invoice")
	// ErrLiveQRLimit: the invoice has as many live QRs as it may (an
	// EConflict); one must be paid or expire before another is issued.
	ErrLiveQRLimit = errors.New("payments: too many live QRs for the invoice")
	// ErrHourlyQRLimit: the user asked for as many QRs in the last hour as
	// they may (an EConflict).
	ErrHourlyQRLimit = errors.New("payments: too many QRs asked for in an hour")
	// ErrSourceKeyUsed: an invoice or QR with the same SourceKey is
	// stored already (an EConflict): the request that makes it ran before.
	ErrSourceKeyUsed = errors.New("payments: source key already used")
)

// RecordedElsewhere is ErrRecordedElsewhere with the invoice that holds
// the payment.
type RecordedElsewhere struct {
	InvoiceID int64
	PaymentID int64
}

func (e *RecordedElsewhere) Error() string {
	return "transaction recorded for invoice " + InvoiceNumber(e.InvoiceID)
}

// Unwrap makes errors.Is(err, ErrRecordedElsewhere) hold.
func (e *RecordedElsewhere) Unwrap() error { return ErrRecordedElsewhere }

// Error is the domain's typed error: a code for programs, a message for people.
type Error struct {
	Code    string
	Message string
	Err     error // cause, if any
}

// Error returns the message, followed by the cause's when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// and a generic text for other errors (whose details belong in logs).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
