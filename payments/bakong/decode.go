package bakong

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/khqrbot/khqrbot/payments/khqr"
)

// envelope is the four-key wrapper of every JSON answer. Missing keys are
// null; numbers are kept as text so "6", 6 and 6.0 all read the same.
type envelope struct {
	ResponseCode    *json.Number    `json:"responseCode"`
	ResponseMessage json.RawMessage `json:"responseMessage"`
	ErrorCode       *json.Number    `json:"errorCode"`
	Data            json.RawMessage `json:"data"`
}

// typedEnvelope is an envelope as it normally comes: a string message and
// data of type T (nil when null or absent).
type typedEnvelope[T any] struct {
	ResponseCode    *json.Number `json:"responseCode"`
	ResponseMessage string       `json:"responseMessage"`
	ErrorCode       *json.Number `json:"errorCode"`
	Data            *T           `json:"data"`
}

// answer is a decoded envelope. Its data is either typed, decoded with the
// envelope, or raw, for the lenient decoders.
type answer struct {
	responseCode int // -1 when absent
	errorCode    int // 0 when null
	message      string
	data         json.RawMessage // raw data; nil when typed, null or absent
	typed        any             // the *T of decodeEnvelopeAs[T]; nil when data is raw, null or absent
}

// errNotJSON marks a body that is not JSON at all (an HTML error page).
var errNotJSON = errors.New("answer is not JSON")

// decodeEnvelope reads body as an envelope with raw data. It returns
// errNotJSON for bodies that are not JSON, and a descriptive error for JSON
// of the wrong shape.
func decodeEnvelope(body []byte) (answer, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return answer{responseCode: -1}, errNotJSON
		}
		return answer{responseCode: -1}, fmt.Errorf("not a Bakong envelope: %w", err)
	}
	a, err := codes(env.ResponseCode, env.ErrorCode)
	if err != nil {
		return a, err
	}
	a.message = text(env.ResponseMessage)
	if !isNull(env.Data) {
		a.data = env.Data
	}
	return a, nil
}

// decodeEnvelopeAs reads body in one pass, its data as T, the shape the
// endpoint normally answers with. A body that does not fit (no JSON, a
// number for a message, an item or field of another type) goes to
// decodeEnvelope instead, so nothing the lenient decoders accept is lost.
// One difference: a top-level key sent twice merges into typed data as
// encoding/json merges repeated keys, where decodeEnvelope keeps the last
// value; Bakong's answers never repeat a key.
func decodeEnvelopeAs[T any](body []byte) (answer, error) {
	var env typedEnvelope[T]
	if json.Unmarshal(body, &env) != nil {
		return decodeEnvelope(body)
	}
	a, err := codes(env.ResponseCode, env.ErrorCode)
	if err != nil {
		return a, err
	}
	a.message = env.ResponseMessage
	if env.Data != nil {
		a.typed = env.Data
	}
	return a, nil
}

// codes starts an answer with an envelope's codes; on error it keeps those
// read so far.
func codes(responseCode, errorCode *json.Number) (answer, error) {
	a := answer{responseCode: -1}
	if responseCode != nil {
		n, err := code(*responseCode)
		if err != nil {
			return a, fmt.Errorf("responseCode: %w", err)
		}
		a.responseCode = n
	}
	if errorCode != nil {
		n, err := code(*errorCode)
		if err != nil {
			return a, fmt.Errorf("errorCode: %w", err)
		}
		a.errorCode = n
	}
	return a, nil
}

// code reads a small non-negative integer code, tolerating "6.0".
func code(n json.Number) (int, error) {
	v, err := scaled(string(n), 0, true)
	if err != nil || v > 1<<20 {
		return 0, fmt.Errorf("%q is not a code", string(n))
	}
	return int(v), nil
}

// text returns a JSON string's value, or the raw JSON of anything else,
// because the doc's tables call responseMessage an "Int".
func text(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// transactionOf returns the transaction of a single check's answer, from
// its typed data or else its raw data.
func transactionOf(a answer) (*Transaction, error) {
	if w, ok := a.typed.(*wireTx); ok {
		return w.transaction()
	}
	return decodeTransaction(a.data)
}

// wireTx is a transaction as the API sends it. Numbers may arrive as JSON
// numbers or strings; null strings read as "".
type wireTx struct {
	Hash                string      `json:"hash"`
	FromAccountID       string      `json:"fromAccountId"`
	ToAccountID         string      `json:"toAccountId"`
	Currency            string      `json:"currency"`
	Amount              json.Number `json:"amount"`
	Description         string      `json:"description"`
	CreatedDateMs       json.Number `json:"createdDateMs"`
	AcknowledgedDateMs  json.Number `json:"acknowledgedDateMs"`
	TrackingStatus      string      `json:"trackingStatus"`
	ReceiverBank        string      `json:"receiverBank"`
	ReceiverBankAccount string      `json:"receiverBankAccount"`
	InstructionRef      string      `json:"instructionRef"`
	ExternalRef         string      `json:"externalRef"`
}

// decodeTransaction reads a transaction object exactly.
func decodeTransaction(raw json.RawMessage) (*Transaction, error) {
	if isNull(raw) {
		return nil, errors.New("transaction missing")
	}
	var w wireTx
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	return w.transaction()
}

// transaction converts w: the amount into minor units of its currency,
// timestamps into integer milliseconds.
func (w *wireTx) transaction() (*Transaction, error) {
	if w.Hash == "" {
		return nil, errors.New("transaction: hash missing")
	}
	cur := strings.ToUpper(w.Currency)
	dec, ok := decimals(cur)
	if !ok {
		return nil, fmt.Errorf("transaction %s: currency %q: want USD or KHR", w.Hash, w.Currency)
	}
	if w.Amount == "" {
		return nil, fmt.Errorf("transaction %s: amount missing", w.Hash)
	}
	amt, err := scaled(string(w.Amount), dec, true)
	if err != nil {
		return nil, fmt.Errorf("transaction %s: amount %q in %s: %w", w.Hash, string(w.Amount), cur, err)
	}
	created, err := millis(w.CreatedDateMs)
	if err != nil {
		return nil, fmt.Errorf("transaction %s: createdDateMs: %w", w.Hash, err)
	}
	acked, err := millis(w.AcknowledgedDateMs)
	if err != nil {
		return nil, fmt.Errorf("transaction %s: acknowledgedDateMs: %w", w.Hash, err)
	}
	return &Transaction{
		Hash:                w.Hash,
		FromAccountID:       w.FromAccountID,
		ToAccountID:         w.ToAccountID,
		Currency:            cur,
		Amount:              amt,
		Description:         w.Description,
		CreatedDateMs:       created,
		AcknowledgedDateMs:  acked,
		TrackingStatus:      w.TrackingStatus,
		ReceiverBank:        w.ReceiverBank,
		ReceiverBankAccount: w.ReceiverBankAccount,
		InstructionRef:      w.InstructionRef,
		ExternalRef:         w.ExternalRef,
	}, nil
}

// millis reads an epoch-milliseconds timestamp sent as 1605774370608,
// 1605774370608.0, "1605774370608" or 1.605774370608E12. Sub-millisecond
// fractions are dropped; null is 0.
func millis(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	return scaled(string(n), 0, false)
}

// decimals returns the minor-unit digits of a KHQR currency.
func decimals(currency string) (int, bool) {
	switch currency {
	case "USD":
		return 2, true
	case "KHR":
		return 0, true
	}
	return 0, false
}

// scaled returns the non-negative decimal number s (JSON number syntax,
// exponent allowed) multiplied by 10^dec, computed on digits, never floats.
// When exact, non-zero digits beyond dec places are an error ("1.005" USD);
// otherwise they are dropped. Trailing zeros never count: "9800.0" KHR is 9800.
func scaled(s string, dec int, exact bool) (int64, error) {
	mant, exp, err := splitNumber(s)
	if err != nil {
		return 0, err
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	shift := dec + exp - len(frac) // value*10^dec = digits * 10^shift
	if shift < 0 {
		if -shift > len(digits) {
			shift = -len(digits)
		}
		cut := len(digits) + shift
		if exact && strings.Trim(digits[cut:], "0") != "" {
			return 0, fmt.Errorf("more than %d decimal places", dec)
		}
		digits = digits[:cut]
		shift = 0
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0, nil
	}
	if len(digits)+shift > 18 {
		return 0, errors.New("too large")
	}
	v, err := strconv.ParseInt(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil {
		return 0, errors.New("too large")
	}
	return v, nil
}

// splitNumber checks s against non-negative JSON number syntax, with leading
// zeros tolerated, and returns its mantissa and exponent.
func splitNumber(s string) (mant string, exp int, err error) {
	bad := fmt.Errorf("%q is not a non-negative decimal number", s)
	mant, e, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if !khqr.AllDigits(intPart) || (hasDot && !khqr.AllDigits(frac)) {
		return "", 0, bad
	}
	if hasExp {
		d := strings.TrimPrefix(strings.TrimPrefix(e, "+"), "-")
		if !khqr.AllDigits(d) || len(d) > 4 {
			return "", 0, bad
		}
		exp, _ = strconv.Atoi(d)
		if strings.HasPrefix(e, "-") {
			exp = -exp
		}
	}
	return mant, exp, nil
}

// formatMinor writes minor units as a plain decimal with the currency's
// places ("1.50", "9800"), for request bodies.
func formatMinor(v int64, dec int) string {
	s := strconv.FormatInt(v, 10)
	if dec == 0 {
		return s
	}
	if len(s) <= dec {
		s = strings.Repeat("0", dec-len(s)+1) + s
	}
	return s[:len(s)-dec] + "." + s[len(s)-dec:]
}

// wireItem is one item of a list answer. The transaction may sit under
// "data", under "transaction", or inline in the item itself (the embedded
// wireTx, whose hash is the item's Hash).
type wireItem struct {
	MD5         string  `json:"md5"`
	Hash        string  `json:"hash"`
	Status      string  `json:"status"`
	Message     string  `json:"message"`
	Data        *wireTx `json:"data"`
	Transaction *wireTx `json:"transaction"`
	wireTx
}

// itemsOf returns the results of a list answer, from its typed items or
// else its raw data.
func itemsOf(a answer, field string) (map[string]Result, error) {
	if items, ok := a.typed.(*[]wireItem); ok {
		return results(*items, field), nil
	}
	return decodeItems(a.data, field)
}

// decodeItems reads the raw data of a list answer into results keyed by
// the lower-case echoed md5 or hash (field names which). Trouble with one
// item becomes that item's SERVICE_FAILED, never NOT_FOUND, so the others
// count.
func decodeItems(data json.RawMessage, field string) (map[string]Result, error) {
	var items []wireItem
	if err := json.Unmarshal(data, &items); err != nil {
		return decodeItemsOneByOne(data, field)
	}
	return results(items, field), nil
}

// results keys decoded items as decodeItems does; the first of a key wins.
func results(items []wireItem, field string) map[string]Result {
	got := make(map[string]Result, len(items))
	for i := range items {
		k, r := items[i].result(field)
		if _, dup := got[k]; !dup && k != "" {
			got[k] = r
		}
	}
	return got
}

// decodeItemsOneByOne is the slow path for answers with a malformed item.
func decodeItemsOneByOne(data json.RawMessage, field string) (map[string]Result, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, err
	}
	got := make(map[string]Result, len(raws))
	for _, raw := range raws {
		var it wireItem
		k, r := "", Result{}
		if err := json.Unmarshal(raw, &it); err == nil {
			k, r = it.result(field)
		} else {
			var id struct{ MD5, Hash string }
			if json.Unmarshal(raw, &id) != nil {
				continue
			}
			k = strings.ToLower(id.MD5)
			if field == "hash" {
				k = strings.ToLower(id.Hash)
			}
			r = Result{Key: k, Status: ItemServiceFailed, Message: "bad item in answer: " + err.Error()}
		}
		if _, dup := got[k]; !dup && k != "" {
			got[k] = r
		}
	}
	return got, nil
}

func (w *wireItem) result(field string) (string, Result) {
	r := Result{Key: w.MD5, Status: ItemStatus(strings.ToUpper(w.Status)), Message: w.Message}
	if field == "hash" {
		r.Key = w.Hash
	}
	switch r.Status {
	case ItemSuccess:
		src := w.Data
		if src == nil {
			src = w.Transaction
		}
		if src == nil {
			src = &w.wireTx
			src.Hash = w.Hash
		}
		tx, err := src.transaction()
		if err != nil {
			r.Status, r.Message = ItemServiceFailed, "bad transaction in answer: "+err.Error()
			break
		}
		r.Transaction = tx
	case ItemNotFound, ItemStaticQR, ItemFailed, ItemServiceFailed:
	default:
		r.Status, r.Message = ItemServiceFailed, fmt.Sprintf("unknown status %q: %s", w.Status, w.Message)
	}
	return strings.ToLower(r.Key), r
}
