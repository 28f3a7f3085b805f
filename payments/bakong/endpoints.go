package bakong

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/khqrbot/khqrbot/payments/khqr"
)

// CheckMD5 asks for the payment of the KHQR whose md5 (32 hex digits, over
// the exact string scanned) is given. Not paid yet is ErrNotFound.
func (c *Client) CheckMD5(ctx context.Context, md5 string) (*Transaction, error) {
	const ep = "check_transaction_by_md5"
	md5 = strings.ToLower(md5)
	if !khqr.IsHex(md5, 32) {
		return nil, invalid(ep, "md5 %q: want 32 hex digits", md5)
	}
	return c.check(ctx, ep, md5, map[string]string{"md5": md5})
}

// CheckHash asks for a transaction by its full hash (64 hex digits).
func (c *Client) CheckHash(ctx context.Context, hash string) (*Transaction, error) {
	const ep = "check_transaction_by_hash"
	hash = strings.ToLower(hash)
	if !khqr.IsHex(hash, 64) {
		return nil, invalid(ep, "hash %q: want 64 hex digits", hash)
	}
	return c.check(ctx, ep, hash, map[string]string{"hash": hash})
}

// CheckShortHash asks for a transaction by the first 8 hex digits of its
// hash, as receipts print it, with its amount in minor units and currency
// ("USD" or "KHR"); a wrong amount or currency reads as not found.
func (c *Client) CheckShortHash(ctx context.Context, hash string, amount int64, currency string) (*Transaction, error) {
	const ep = "check_transaction_by_short_hash"
	hash = strings.ToLower(hash)
	if !khqr.IsHex(hash, 8) {
		return nil, invalid(ep, "short hash %q: want 8 hex digits", hash)
	}
	cur := strings.ToUpper(currency)
	dec, ok := decimals(cur)
	if !ok {
		return nil, invalid(ep, "currency %q: want USD or KHR", currency)
	}
	if amount <= 0 {
		return nil, invalid(ep, "amount %d: want more than zero", amount)
	}
	body := struct {
		Hash     string      `json:"hash"`
		Amount   json.Number `json:"amount"`
		Currency string      `json:"currency"`
	}{hash, json.Number(formatMinor(amount, dec)), cur}
	return c.check(ctx, ep, hash, body)
}

// CheckInstructionRef asks for a transaction by the payer's instruction
// reference (set by the payer's bank, not by the merchant).
func (c *Client) CheckInstructionRef(ctx context.Context, ref string) (*Transaction, error) {
	const ep = "check_transaction_by_instruction_ref"
	if err := checkRef(ep, "instruction ref", ref); err != nil {
		return nil, err
	}
	return c.check(ctx, ep, ref, map[string]string{"instructionRef": ref})
}

// CheckExternalRef asks for a transaction by the payer bank's reference
// (externalRef, e.g. "100FT38906478429").
func (c *Client) CheckExternalRef(ctx context.Context, ref string) (*Transaction, error) {
	const ep = "check_transaction_by_external_ref"
	if err := checkRef(ep, "external ref", ref); err != nil {
		return nil, err
	}
	return c.check(ctx, ep, ref, map[string]string{"externalRef": ref})
}

// CheckMD5List asks about up to MaxList md5s in one call and returns one
// Result per input, in input order, matched by the md5 Bakong echoes. An
// md5 missing from the answer comes back as ItemServiceFailed (ask again),
// never as not found. More than MaxList is KindInvalid: callers chunk. When
// the endpoint is refused (it answers a bare 403 on production) the error
// is KindListRefused: fall back to CheckMD5.
func (c *Client) CheckMD5List(ctx context.Context, md5s []string) ([]Result, error) {
	return c.checkList(ctx, "check_transaction_by_md5_list", "md5", "md5s", 32, md5s)
}

// CheckHashList is CheckMD5List for full transaction hashes.
func (c *Client) CheckHashList(ctx context.Context, hashes []string) ([]Result, error) {
	return c.checkList(ctx, "check_transaction_by_hash_list", "hash", "hashes", 64, hashes)
}

// CheckAccount reports whether a Bakong account ("name@bank") exists.
// Bakong's "not found" (errorCode 11) is false with no error; an ID Bakong
// calls invalid (errorCode 12) is a KindAPI error.
func (c *Client) CheckAccount(ctx context.Context, id string) (bool, error) {
	const ep = "check_bakong_account"
	if id == "" || len(id) > 32 || strings.Count(id, "@") != 1 {
		return false, invalid(ep, "account ID %q: want name@bank, at most 32 characters", id)
	}
	_, err := c.post(ctx, request{endpoint: ep, key: id, body: map[string]string{"accountId": id}})
	if e := apiCode(err); e == 11 {
		return false, nil
	}
	return err == nil, err
}

// Deeplink returns the short link that opens the Bakong app on qr (the full
// KHQR string, CRC included). It sends Options.SourceInfo when set.
func (c *Client) Deeplink(ctx context.Context, qr string) (string, error) {
	const ep = "generate_deeplink_by_qr"
	if qr == "" {
		return "", invalid(ep, "qr: want the KHQR string, got nothing")
	}
	body := struct {
		QR         string      `json:"qr"`
		SourceInfo *SourceInfo `json:"sourceInfo,omitempty"`
	}{qr, c.source}
	a, err := c.post(ctx, request{endpoint: ep, key: fmt.Sprintf("%x", md5.Sum([]byte(qr))), body: body, decode: decodeEnvelopeAs[linkData]})
	if err != nil {
		return "", err
	}
	d, err := dataAs[linkData](a)
	if err != nil || d.ShortLink == "" {
		return "", badResponse(ep, "no shortLink in data", err)
	}
	return d.ShortLink, nil
}

// linkData is the data of a deeplink answer.
type linkData struct {
	ShortLink string `json:"shortLink"`
}

// RequestToken registers email for a token (API v1.0.2; today the web
// portal does this). Bakong emails a code to pass to VerifyCode.
func (c *Client) RequestToken(ctx context.Context, email, org, project string) error {
	const ep = "request_token"
	if err := checkEmail(ep, email); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"organization", org}, {"project", project}} {
		if n := utf8.RuneCountInString(f.v); n < 1 || n > 100 {
			return invalid(ep, "%s: want 1 to 100 characters", f.name)
		}
	}
	body := map[string]string{"email": email, "organization": org, "project": project}
	_, err := c.post(ctx, request{endpoint: ep, key: email, body: body})
	return err
}

// VerifyCode swaps the 20-character code Bakong emailed for a token.
func (c *Client) VerifyCode(ctx context.Context, code string) (string, error) {
	const ep = "verify"
	if utf8.RuneCountInString(code) != 20 {
		return "", invalid(ep, "code: want exactly 20 characters")
	}
	return c.token(ctx, ep, "", map[string]string{"code": code}) // the code buys a token: never logged
}

// RenewToken asks for a new token for a registered email. Bakong answers
// errorCode 10 (KindAPI) for an email it does not know.
func (c *Client) RenewToken(ctx context.Context, email string) (string, error) {
	const ep = "renew_token"
	if err := checkEmail(ep, email); err != nil {
		return "", err
	}
	return c.token(ctx, ep, email, map[string]string{"email": email})
}

func (c *Client) token(ctx context.Context, ep, key string, body any) (string, error) {
	a, err := c.post(ctx, request{endpoint: ep, key: key, body: body, decode: decodeEnvelopeAs[tokenData]})
	if err != nil {
		return "", err
	}
	d, err := dataAs[tokenData](a)
	if err != nil || d.Token == "" {
		return "", badResponse(ep, "no token in data", nil)
	}
	return d.Token, nil
}

// tokenData is the data of a token answer.
type tokenData struct {
	Token string `json:"token"`
}

// dataAs returns the data of a as decodeEnvelopeAs[T] typed it, or else
// decodes it from the raw data.
func dataAs[T any](a answer) (T, error) {
	if t, ok := a.typed.(*T); ok {
		return *t, nil
	}
	var t T
	err := json.Unmarshal(a.data, &t)
	return t, err
}

// check makes a single transaction lookup and turns errorCode 1 and 3 at
// HTTP 200 into ErrNotFound and ErrFailed.
func (c *Client) check(ctx context.Context, ep, key string, body any) (*Transaction, error) {
	a, err := c.post(ctx, request{endpoint: ep, key: key, body: body, auth: true, decode: decodeEnvelopeAs[wireTx]})
	if err != nil {
		switch apiCode(err) {
		case 1:
			return nil, fmt.Errorf("bakong %s %s: %w", ep, key, ErrNotFound)
		case 3:
			return nil, fmt.Errorf("bakong %s %s: %w", ep, key, ErrFailed)
		}
		return nil, err
	}
	tx, err := transactionOf(a)
	if err != nil {
		return nil, badResponse(ep, "transaction breaks the contract", err)
	}
	return tx, nil
}

// checkList asks about keys, each a field (plural: fields) of size hex digits.
func (c *Client) checkList(ctx context.Context, ep, field, fields string, size int, keys []string) ([]Result, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if len(keys) > MaxList {
		return nil, invalid(ep, "%d items: at most %d per call", len(keys), MaxList)
	}
	norm := make([]string, len(keys))
	var send []string
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		k = strings.ToLower(k)
		if !khqr.IsHex(k, size) {
			return nil, invalid(ep, "%s %q: want %d hex digits", field, k, size)
		}
		norm[i] = k
		if !seen[k] {
			seen[k] = true
			send = append(send, k)
		}
	}
	a, err := c.post(ctx, request{endpoint: ep, key: fmt.Sprintf("%d %s", len(send), fields), body: send, auth: true, list: true,
		decode: decodeEnvelopeAs[[]wireItem]})
	if err != nil {
		return nil, err
	}
	got, err := itemsOf(a, field)
	if err != nil {
		return nil, badResponse(ep, "data is not a list", err)
	}
	out := make([]Result, len(norm))
	for i, k := range norm {
		r, ok := got[k]
		if !ok {
			r = Result{Status: ItemServiceFailed, Message: "missing from Bakong's answer"}
		}
		r.Key = k
		out[i] = r
	}
	return out, nil
}

// apiCode returns the errorCode of a KindAPI refusal at HTTP 200, or 0.
func apiCode(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindAPI && e.HTTPStatus == http.StatusOK {
		return e.ErrorCode
	}
	return 0
}

func badResponse(ep, msg string, err error) *Error {
	return &Error{Kind: KindBadResponse, Endpoint: ep, HTTPStatus: http.StatusOK, Message: msg, Err: err}
}

func checkRef(ep, name, ref string) error {
	if ref == "" || len(ref) > 255 {
		return invalid(ep, "%s: want 1 to 255 characters", name)
	}
	return nil
}

func checkEmail(ep, email string) error {
	if email == "" || len(email) > 30 || !strings.Contains(email, "@") {
		return invalid(ep, "email: want an address of at most 30 characters")
	}
	return nil
}
