package sim

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// Open API errorCodes (contract section 3.2).
const (
	codeNotFound      = 1
	codeStaticQR      = 2
	codeFailed        = 3
	codeDeeplink      = 4
	codeMissing       = 5
	codeUnauthorized  = 6
	codeEmailDown     = 7
	codeRegistered    = 8
	codeCannotConnect = 9
	codeNotRegistered = 10
	codeNoAccount     = 11
	codeBadAccount    = 12
)

// messages holds the texts of the errorCodes, verbatim where the contract knows them.
var messages = map[int]string{
	codeNotFound:      "Transaction could not be found. Please check and try again.",
	codeStaticQR:      "Sorry, the system does not support static QR code.",
	codeFailed:        "Transaction failed.",
	codeDeeplink:      "Error occurred on requesting deeplink from provider.",
	codeMissing:       "Missing required fields.",
	codeUnauthorized:  "Unauthorized, not yet requested for token or code invalid",
	codeEmailDown:     "Email server has been down.",
	codeRegistered:    "Email has been registered already.",
	codeCannotConnect: "Cannot connect to server. Please try again later.",
	codeNotRegistered: "Not registered yet",
	codeNoAccount:     "Account ID not found",
	codeBadAccount:    "Account ID is invalid",
}

// Success messages.
const (
	msgTransaction = "Getting transaction successfully."
	msgList        = "Getting transaction data successfully."
	msgToken       = "Token has been issued"
	msgEmailSent   = "Email has been sent"
	msgDeeplink    = "Getting deep link successfully"
	msgAccount     = "Account ID exists"
	msgUnavailable = "Service unavailable"
)

// envelope is the four-key JSON answer of every endpoint; ErrorCode is null on success.
type envelope struct {
	ResponseCode    int             `json:"responseCode"`
	ResponseMessage string          `json:"responseMessage"`
	ErrorCode       *int            `json:"errorCode"`
	Data            json.RawMessage `json:"data"`
}

// reply is what a handler answers: a JSON envelope, or an HTML page when env is nil.
type reply struct {
	status     int
	env        *envelope
	html       string
	retryAfter int // seconds; 0 = no Retry-After header
	allow      bool
}

func ok(msg string, data json.RawMessage) reply {
	return reply{status: http.StatusOK, env: &envelope{ResponseMessage: msg, Data: data}}
}

// fail is a business failure: HTTP 200 with errorCode, the contract's usual shape.
func fail(code int) reply { return failAt(http.StatusOK, code) }

func failAt(status, code int) reply {
	return reply{status: status, env: &envelope{ResponseCode: 1, ResponseMessage: messages[code], ErrorCode: &code}}
}

func unauthorized() reply { return failAt(http.StatusUnauthorized, codeUnauthorized) }

// nginxTitles are the status lines nginx prints where they differ from net/http's.
var nginxTitles = map[int]string{
	http.StatusServiceUnavailable: "Service Temporarily Unavailable",
	http.StatusGatewayTimeout:     "Gateway Time-out",
	http.StatusMethodNotAllowed:   "Not Allowed",
}

// page is an nginx-style error page: what the gateway answers before the API sees the call.
func page(status int) reply {
	title, found := nginxTitles[status]
	if !found {
		title = http.StatusText(status)
	}
	head := fmt.Sprintf("%d %s", status, title)
	return reply{status: status, html: "<html>\r\n<head><title>" + head + "</title></head>\r\n<body>\r\n<center><h1>" +
		head + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"}
}

// shape is how transactions are written: the contract's number forms, or a
// fault's variants of them.
type shape struct {
	amountString    bool
	floatTimestamps bool
	inline          bool
	underTx         bool
}

// wireTx is section 2.13's transaction object, every field present.
type wireTx struct {
	Hash                string          `json:"hash"`
	FromAccountID       string          `json:"fromAccountId"`
	ToAccountID         string          `json:"toAccountId"`
	Currency            string          `json:"currency"`
	Amount              json.RawMessage `json:"amount"`
	Description         *string         `json:"description"`
	CreatedDateMs       json.RawMessage `json:"createdDateMs"`
	AcknowledgedDateMs  json.RawMessage `json:"acknowledgedDateMs"`
	TrackingStatus      *string         `json:"trackingStatus"`
	ReceiverBank        *string         `json:"receiverBank"`
	ReceiverBankAccount *string         `json:"receiverBankAccount"`
	InstructionRef      *string         `json:"instructionRef"`
	ExternalRef         *string         `json:"externalRef"`
}

// encodeTx writes t as the API does: amount a JSON number in major units
// (5, 5.5, 0.01, 9800), timestamps integer milliseconds.
func encodeTx(t *bakong.Transaction, sh shape) json.RawMessage {
	amount := json.RawMessage(formatMajor(t.Amount, khqr.Currency(t.Currency).Decimals(), false))
	if sh.amountString {
		amount = json.RawMessage(strconv.Quote(formatMajor(t.Amount, khqr.Currency(t.Currency).Decimals(), true)))
	}
	ms := func(v int64) json.RawMessage {
		s := strconv.FormatInt(v, 10)
		if sh.floatTimestamps {
			s += ".0"
		}
		return json.RawMessage(s)
	}
	w := wireTx{
		Hash:                t.Hash,
		FromAccountID:       t.FromAccountID,
		ToAccountID:         t.ToAccountID,
		Currency:            t.Currency,
		Amount:              amount,
		Description:         nullable(t.Description),
		CreatedDateMs:       ms(t.CreatedDateMs),
		AcknowledgedDateMs:  ms(t.AcknowledgedDateMs),
		TrackingStatus:      nullable(t.TrackingStatus),
		ReceiverBank:        nullable(t.ReceiverBank),
		ReceiverBankAccount: nullable(t.ReceiverBankAccount),
		InstructionRef:      nullable(t.InstructionRef),
		ExternalRef:         nullable(t.ExternalRef),
	}
	return mustJSON(w)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// mustJSON marshals values built only of strings, numbers and raw JSON, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sim: marshal %T: %v", v, err))
	}
	return b
}

// formatMajor writes minor units in major units: with fixed decimals ("1.50")
// or as the shortest exact number ("1.5", "5", "0.01").
func formatMajor(minor int64, decimals int, fixed bool) string {
	s := strconv.FormatInt(minor, 10)
	if decimals == 0 {
		return s
	}
	for len(s) <= decimals {
		s = "0" + s
	}
	whole, frac := s[:len(s)-decimals], s[len(s)-decimals:]
	if !fixed {
		frac = strings.TrimRight(frac, "0")
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// parseMajor reads a decimal number in major units, as JSON writes it ("1",
// "1.0", "0.01", "1e2"), exactly into minor units; it refuses fractions of a
// minor unit and non-positive amounts.
func parseMajor(s string, decimals int) (int64, error) {
	if !isDecimal(s) {
		return 0, fmt.Errorf("amount %q: want a decimal number like 10.50", s)
	}
	r, _ := new(big.Rat).SetString(s)
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("amount %q: want at most %d decimals and 18 digits", s, decimals)
	}
	v := r.Num().Int64()
	if v <= 0 {
		return 0, fmt.Errorf("amount %q: want more than zero", s)
	}
	return v, nil
}

// isDecimal reports whether s is digits with an optional fraction and an
// exponent small enough to compute with.
func isDecimal(s string) bool {
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, hasDot := strings.Cut(mant, ".")
	if !digits(whole) || (hasDot && !digits(frac)) {
		return false
	}
	if hasExp {
		e, err := strconv.Atoi(exp)
		return err == nil && e >= -40 && e <= 40
	}
	return true
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
