package bakong

import (
	"errors"
	"fmt"
	"time"
)

// Transaction is a payment Bakong found. Amount is exact, in minor units of
// Currency (cents for USD, riel for KHR), whatever JSON form the API used.
type Transaction struct {
	Hash                string // full hash, 64 hex
	FromAccountID       string // often the payer's bank, not the person
	ToAccountID         string // the receiver, name@bank
	Currency            string // "USD" or "KHR"
	Amount              int64  // minor units of Currency
	Description         string
	CreatedDateMs       int64 // when the payer sent it; compared with the QR's expiry
	AcknowledgedDateMs  int64 // when Bakong recorded it
	TrackingStatus      string
	ReceiverBank        string
	ReceiverBankAccount string
	InstructionRef      string
	ExternalRef         string
}

// ShortHash is the first 8 characters of the full hash, as receipts show it.
func (t *Transaction) ShortHash() string {
	if len(t.Hash) < 8 {
		return t.Hash
	}
	return t.Hash[:8]
}

// CreatedAt is CreatedDateMs as a time.
func (t *Transaction) CreatedAt() time.Time { return time.UnixMilli(t.CreatedDateMs) }

// ItemStatus is the per-item status of a list check.
type ItemStatus string

// Item statuses the list endpoints answer with.
const (
	ItemSuccess       ItemStatus = "SUCCESS"
	ItemNotFound      ItemStatus = "NOT_FOUND"
	ItemStaticQR      ItemStatus = "STATIC_QR"
	ItemFailed        ItemStatus = "FAILED"
	ItemServiceFailed ItemStatus = "SERVICE_FAILED"
)

// Result is one item of a list check, matched to the request by Key (the echoed
// md5 or hash). Transaction is set only when Status is ItemSuccess.
type Result struct {
	Key         string
	Status      ItemStatus
	Message     string
	Transaction *Transaction
}

// Outcomes that are answers, not failures.
var (
	// ErrNotFound is errorCode 1 at HTTP 200: the only answer that means "not paid yet".
	ErrNotFound = errors.New("bakong: transaction not found")
	// ErrFailed is errorCode 3: Bakong recorded the transaction as failed.
	ErrFailed = errors.New("bakong: transaction failed")
)

// Kind classifies an Error so callers can decide to retry, renew or fall back.
type Kind string

// Error kinds.
const (
	KindUnauthorized Kind = "unauthorized" // 401: token missing, invalid or expired
	KindGeoBlocked   Kind = "geo_blocked"  // 403 with an HTML body: caller outside Cambodia
	KindRateLimited  Kind = "rate_limited" // 429
	KindUnavailable  Kind = "unavailable"  // 5xx, timeouts, transport errors, non-JSON answers
	KindListRefused  Kind = "list_refused" // a list endpoint answered 403/404: fall back to single checks
	KindAPI          Kind = "api"          // a JSON envelope with an errorCode other than the outcomes above
	KindBadResponse  Kind = "bad_response" // JSON that breaks the contract: amount with too many decimals, no responseCode, ...
	KindInvalid      Kind = "invalid"      // the request was refused locally (bad md5, more than 50 items, ...)
)

// Outcomes of a Call that are not errors; every other call's Outcome is its
// error's Kind.
const (
	OutcomeOK       = "ok"        // answered with responseCode 0
	OutcomeFound    = "found"     // a single transaction check found it
	OutcomeNotFound = "not_found" // errorCode 1 of a single check, 11 of check_bakong_account
	OutcomeFailed   = "failed"    // errorCode 3: Bakong recorded the transaction as failed
)

// Kinds lists every error Kind, for those who must know them all (bounded
// metric labels).
func Kinds() []Kind {
	return []Kind{KindUnauthorized, KindGeoBlocked, KindRateLimited, KindUnavailable, KindListRefused, KindAPI, KindBadResponse, KindInvalid}
}

// Endpoints lists every Open API endpoint the Client calls, as Call.Endpoint
// and Error.Endpoint name them.
func Endpoints() []string {
	return []string{
		"check_transaction_by_md5", "check_transaction_by_hash", "check_transaction_by_short_hash",
		"check_transaction_by_instruction_ref", "check_transaction_by_external_ref",
		"check_transaction_by_md5_list", "check_transaction_by_hash_list",
		"check_bakong_account", "generate_deeplink_by_qr", "request_token", "verify", "renew_token",
	}
}

// Error is every failure of a call. Its text never contains the token.
type Error struct {
	Kind       Kind
	Endpoint   string        // e.g. "check_transaction_by_md5"
	HTTPStatus int           // 0 when no answer arrived
	ErrorCode  int           // the API's errorCode, 0 when none
	Message    string        // what went wrong, for people
	RetryAfter time.Duration // from Retry-After on 429
	Err        error         // underlying cause, if any
}

// Error says which call failed, how, and with which HTTP status and errorCode.
func (e *Error) Error() string {
	s := fmt.Sprintf("bakong %s: %s", e.Endpoint, e.Message)
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.HTTPStatus)
		if e.ErrorCode != 0 {
			s += fmt.Sprintf(", errorCode %d", e.ErrorCode)
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, so errors.Is sees timeouts and cancellation.
func (e *Error) Unwrap() error { return e.Err }

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// Call describes one HTTP exchange with the Open API, for logs and the call log.
// It never holds the token, nor the code that buys one.
type Call struct {
	Endpoint     string
	RequestID    string // our X-Request-ID
	HTTPStatus   int    // 0 when no answer arrived
	ResponseCode int    // -1 when the body had none
	ErrorCode    int    // 0 when none
	Latency      time.Duration
	Err          string // transport or decode error, if any
	At           time.Time
	RetryAfter   time.Duration // a 429's Retry-After; 0 otherwise
	// Outcome sums the call up in a word from a short fixed list: OutcomeOK,
	// OutcomeFound, OutcomeNotFound, OutcomeFailed, or the Kind of its error.
	Outcome string

	// Key is what the call was about: the md5, hash, short hash or reference
	// checked, "50 md5s" or "50 hashes" for a list, the md5 of the QR a
	// deeplink is for, the account checked, or the email of a token request.
	Key string
}
