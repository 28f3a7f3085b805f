package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestEnvelopes checks every endpoint's answers: HTTP status, responseCode,
// errorCode and message.
func TestEnvelopes(t *testing.T) {
	h := newHarness(t, sim.Options{Accounts: []string{"dave@devb"}})
	paid := h.pay(qrUSD1, sim.Payment{InstructionRef: "00001234"})
	if _, err := h.sim.RegisterQR(qrStatic); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.Fail(md5KHR100); err != nil {
		t.Fatal(err)
	}
	ext := h.transaction(`{"hash":"` + paid + `"}`).ExternalRef
	const (
		found     = "Getting transaction successfully."
		notFound  = "Transaction could not be found. Please check and try again."
		missing   = "Missing required fields."
		unauth    = "Unauthorized, not yet requested for token or code invalid"
		badSource = `{"qr":"` + qrUSD1 + `","sourceInfo":{"appIconUrl":"https://x/i.png","appName":"khqrbot"}}`
	)
	many := make([]string, 51)
	for i := range many {
		many[i] = md5USD1
	}
	tests := []struct {
		name    string
		path    string
		auth    bool
		body    string
		status  int
		code    int // errorCode; 0 = null
		message string
	}{
		{"request token", "/v1/request_token", false, `{"email":"new@example.com","organization":"Shop","project":"Bot"}`, 200, 0, "Email has been sent"},
		{"request token registered", "/v1/request_token", false, `{"email":"` + email + `","organization":"Shop","project":"Bot"}`, 200, 8, "Email has been registered already."},
		{"request token missing project", "/v1/request_token", false, `{"email":"a@b.c","organization":"Shop"}`, 200, 5, missing},
		{"request token long email", "/v1/request_token", false, `{"email":"` + strings.Repeat("a", 25) + `@b.com","organization":"S","project":"B"}`, 200, 5, missing},
		{"verify bad code", "/v1/verify", false, `{"code":"` + strings.Repeat("x", 20) + `"}`, 401, 6, unauth},
		{"verify short code", "/v1/verify", false, `{"code":"abc"}`, 200, 5, missing},
		{"renew", "/v1/renew_token", false, `{"email":"` + email + `"}`, 200, 0, "Token has been issued"},
		{"renew unknown", "/v1/renew_token", false, `{"email":"who@example.com"}`, 200, 10, "Not registered yet"},
		{"renew missing", "/v1/renew_token", false, `{}`, 200, 5, missing},
		{"deeplink", "/v1/generate_deeplink_by_qr", false, `{"qr":"` + qrUSD1 + `"}`, 200, 0, "Getting deep link successfully"},
		{"deeplink static", "/v1/generate_deeplink_by_qr", false, `{"qr":"` + qrStatic + `"}`, 200, 0, "Getting deep link successfully"},
		{"deeplink with token", "/v1/generate_deeplink_by_qr", true, `{"qr":"` + qrUSD1 + `"}`, 200, 0, "Getting deep link successfully"},
		{"deeplink source info", "/v1/generate_deeplink_by_qr", false, `{"qr":"` + qrUSD1 + `","sourceInfo":{"appIconUrl":"https://x/i.png","appName":"khqrbot","appDeepLinkCallback":"https://t.me/x"}}`, 200, 0, "Getting deep link successfully"},
		{"deeplink partial source info", "/v1/generate_deeplink_by_qr", false, badSource, 200, 5, missing},
		{"deeplink bad crc", "/v1/generate_deeplink_by_qr", false, `{"qr":"` + qrUSD1[:len(qrUSD1)-1] + `2"}`, 200, 5, missing},
		{"deeplink garbage", "/v1/generate_deeplink_by_qr", false, `{"qr":"hello"}`, 200, 5, missing},
		{"deeplink missing qr", "/v1/generate_deeplink_by_qr", false, `{}`, 200, 5, missing},
		{"md5 paid", "/v1/check_transaction_by_md5", true, `{"md5":"` + md5USD1 + `"}`, 200, 0, found},
		{"md5 unknown", "/v1/check_transaction_by_md5", true, `{"md5":"00000000000000000000000000000000"}`, 200, 1, notFound},
		{"md5 upper case", "/v1/check_transaction_by_md5", true, `{"md5":"` + strings.ToUpper(md5USD1) + `"}`, 200, 1, notFound},
		{"md5 static", "/v1/check_transaction_by_md5", true, `{"md5":"` + md5Static + `"}`, 200, 1, notFound},
		{"md5 failed", "/v1/check_transaction_by_md5", true, `{"md5":"` + md5KHR100 + `"}`, 200, 3, "Transaction failed."},
		{"md5 missing", "/v1/check_transaction_by_md5", true, `{"md5":""}`, 200, 5, missing},
		{"md5 no token", "/v1/check_transaction_by_md5", false, `{"md5":"` + md5USD1 + `"}`, 401, 6, unauth},
		{"hash", "/v1/check_transaction_by_hash", true, `{"hash":"` + paid + `"}`, 200, 0, found},
		{"hash unknown", "/v1/check_transaction_by_hash", true, `{"hash":"` + strings.Repeat("0", 64) + `"}`, 200, 1, notFound},
		{"hash missing", "/v1/check_transaction_by_hash", true, `{}`, 200, 5, missing},
		{"hash no token", "/v1/check_transaction_by_hash", false, `{"hash":"` + paid + `"}`, 401, 6, unauth},
		{"short hash", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":1.0,"currency":"USD"}`, 200, 0, found},
		{"short hash int amount", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":1,"currency":"USD"}`, 200, 0, found},
		{"short hash wrong amount", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":1.01,"currency":"USD"}`, 200, 1, notFound},
		{"short hash sub-cent amount", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":1.001,"currency":"USD"}`, 200, 1, notFound},
		{"short hash wrong currency", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":1,"currency":"KHR"}`, 200, 1, notFound},
		{"short hash wrong hash", "/v1/check_transaction_by_short_hash", true, `{"hash":"zzzzzzzz","amount":1,"currency":"USD"}`, 200, 1, notFound},
		{"short hash 9 chars", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:9] + `","amount":1,"currency":"USD"}`, 200, 5, missing},
		{"short hash no amount", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","currency":"USD"}`, 200, 5, missing},
		{"short hash bad currency", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":1,"currency":"EUR"}`, 200, 5, missing},
		{"short hash amount not a number", "/v1/check_transaction_by_short_hash", true, `{"hash":"` + paid[:8] + `","amount":true,"currency":"USD"}`, 400, 5, missing},
		{"instruction ref", "/v1/check_transaction_by_instruction_ref", true, `{"instructionRef":"00001234"}`, 200, 0, found},
		{"instruction ref unknown", "/v1/check_transaction_by_instruction_ref", true, `{"instructionRef":"INV-1"}`, 200, 1, notFound},
		{"instruction ref missing", "/v1/check_transaction_by_instruction_ref", true, `{}`, 200, 5, missing},
		{"external ref", "/v1/check_transaction_by_external_ref", true, `{"externalRef":"` + ext + `"}`, 200, 0, found},
		{"external ref unknown", "/v1/check_transaction_by_external_ref", true, `{"externalRef":"100FT1"}`, 200, 1, notFound},
		{"external ref no token", "/v1/check_transaction_by_external_ref", false, `{"externalRef":"` + ext + `"}`, 401, 6, unauth},
		{"md5 list", "/v1/check_transaction_by_md5_list", true, `["` + md5USD1 + `"]`, 200, 0, "Getting transaction data successfully."},
		{"md5 list empty", "/v1/check_transaction_by_md5_list", true, `[]`, 200, 5, missing},
		{"md5 list 51", "/v1/check_transaction_by_md5_list", true, js(many), 200, 5, missing},
		{"md5 list 50", "/v1/check_transaction_by_md5_list", true, js(many[:50]), 200, 0, "Getting transaction data successfully."},
		{"md5 list wrapped", "/v1/check_transaction_by_md5_list", true, `{"md5List":["` + md5USD1 + `"]}`, 400, 5, missing},
		{"md5 list no token", "/v1/check_transaction_by_md5_list", false, `["` + md5USD1 + `"]`, 401, 6, unauth},
		{"hash list", "/v1/check_transaction_by_hash_list", true, `["` + paid + `"]`, 200, 0, "Getting transaction data successfully."},
		{"hash list empty", "/v1/check_transaction_by_hash_list", true, `[]`, 200, 5, missing},
		{"hash list 51", "/v1/check_transaction_by_hash_list", true, js(many), 200, 5, missing},
		{"account configured", "/v1/check_bakong_account", false, `{"accountId":"dave@devb"}`, 200, 0, "Account ID exists"},
		{"account receiver", "/v1/check_bakong_account", false, `{"accountId":"` + receiver + `"}`, 200, 0, "Account ID exists"},
		{"account with token", "/v1/check_bakong_account", true, `{"accountId":"dave@devb"}`, 200, 0, "Account ID exists"},
		{"account not found", "/v1/check_bakong_account", false, `{"accountId":"dope@devb"}`, 200, 11, "Account ID not found"},
		{"account no at", "/v1/check_bakong_account", false, `{"accountId":"dave"}`, 200, 12, "Account ID is invalid"},
		{"account two ats", "/v1/check_bakong_account", false, `{"accountId":"da@ve@devb"}`, 200, 12, "Account ID is invalid"},
		{"account too long", "/v1/check_bakong_account", false, `{"accountId":"` + strings.Repeat("d", 28) + `@devb"}`, 200, 12, "Account ID is invalid"},
		{"account missing", "/v1/check_bakong_account", false, `{}`, 200, 5, missing},
		{"account alias", "/v1/check_account_exist", false, `{"accountId":"dave@devb"}`, 200, 0, "Account ID exists"},
		{"account alias not found", "/v1/check_account_exist", false, `{"accountId":"dope@devb"}`, 200, 11, "Account ID not found"},
		{"malformed JSON", "/v1/check_transaction_by_md5", true, `{"md5":`, 400, 5, missing},
		{"wrong field type", "/v1/renew_token", false, `{"email":5}`, 400, 5, missing},
		{"trailing data", "/v1/renew_token", false, `{"email":"a@b.c"} x`, 400, 5, missing},
		{"empty body", "/v1/renew_token", false, ``, 400, 5, missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.post(tt.path, tt.auth, tt.body)
			if a.status != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", a.status, tt.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			e := a.env(t)
			if e.code() != tt.code || e.ResponseMessage != tt.message {
				t.Errorf("errorCode %d %q, want %d %q", e.code(), e.ResponseMessage, tt.code, tt.message)
			}
			if want := min(tt.code, 1); e.ResponseCode != want {
				t.Errorf("responseCode %d, want %d", e.ResponseCode, want)
			}
			if tt.code != 0 && string(e.Data) != "null" {
				t.Errorf("data %s on an error, want null", e.Data)
			}
		})
	}
}

// transaction checks a hash body and returns the decoded transaction.
func (h *harness) transaction(body string) wireTx {
	h.t.Helper()
	e := h.check("/v1/check_transaction_by_hash", body)
	var tx wireTx
	if err := json.Unmarshal(e.Data, &tx); err != nil {
		h.t.Fatalf("%s: %v", e.Data, err)
	}
	return tx
}

type wireTx struct {
	Hash          string `json:"hash"`
	FromAccountID string `json:"fromAccountId"`
	ToAccountID   string `json:"toAccountId"`
	Currency      string `json:"currency"`
	Amount        json.RawMessage
	CreatedDateMs json.RawMessage
	ExternalRef   string `json:"externalRef"`
}

// TestTransactionJSON checks the transaction object: every field of the
// contract, amounts as numbers in major units, integer milliseconds.
func TestTransactionJSON(t *testing.T) {
	h := newHarness(t, sim.Options{})
	late := start.Add(11 * time.Minute)
	tests := []struct {
		name   string
		qr     string
		p      sim.Payment
		amount string
		cur    string
	}{
		{"USD 1", qrUSD1, sim.Payment{}, "1", "USD"},
		{"USD 100.50", qrUSD100_50, sim.Payment{}, "100.5", "USD"},
		{"USD 0.01", qrUSD0_01, sim.Payment{}, "0.01", "USD"},
		{"KHR 100", qrKHR100, sim.Payment{}, "100", "KHR"},
		{"static, paid 2500 riel", qrStatic, sim.Payment{Amount: 2500}, "2500", "KHR"},
		{"wrong currency and amount", qrStatic, sim.Payment{Amount: 1234, Currency: "USD"}, "12.34", "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.CreatedAt = late
			hash := h.pay(tt.qr, tt.p)
			e := h.check("/v1/check_transaction_by_hash", `{"hash":"`+hash+`"}`)
			var got map[string]json.RawMessage
			if err := json.Unmarshal(e.Data, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"hash":                `"` + hash + `"`,
				"fromAccountId":       `"abaakhppxxx@abaa"`,
				"toAccountId":         `"` + receiver + `"`,
				"currency":            `"` + tt.cur + `"`,
				"amount":              tt.amount,
				"description":         "null",
				"createdDateMs":       fmt.Sprint(late.UnixMilli()),
				"acknowledgedDateMs":  fmt.Sprint(late.UnixMilli() + 1000),
				"trackingStatus":      "null",
				"receiverBank":        "null",
				"receiverBankAccount": "null",
				"instructionRef":      "null",
			}
			for k, v := range want {
				if string(got[k]) != v {
					t.Errorf("%s = %s, want %s", k, got[k], v)
				}
			}
			var ext string
			if err := json.Unmarshal(got["externalRef"], &ext); err != nil || len(ext) != 16 || !strings.HasPrefix(ext, "100FT") {
				t.Errorf("externalRef %s, want 100FT and 11 digits", got["externalRef"])
			}
			if len(got) != 13 {
				t.Errorf("%d fields, want 13: %s", len(got), e.Data)
			}
			if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
				t.Errorf("hash %q, want 64 lower-case hex", hash)
			}
		})
	}
}

// TestLists checks md5_list and hash_list items: one per key, in order, echoing the key.
func TestLists(t *testing.T) {
	h := newHarness(t, sim.Options{})
	paid := h.pay(qrUSD1, sim.Payment{})
	if err := h.sim.Fail(md5KHR100); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.RegisterQR(qrStatic); err != nil {
		t.Fatal(err)
	}
	unknown := strings.Repeat("a", 32)
	tests := []struct {
		path  string
		key   string
		keys  []string
		want  []bakong.ItemStatus
		found int // index of the paid item
	}{
		{"/v1/check_transaction_by_md5_list", "md5", []string{unknown, md5USD1, md5Static, md5KHR100, md5USD1},
			[]bakong.ItemStatus{"NOT_FOUND", "SUCCESS", "STATIC_QR", "FAILED", "SUCCESS"}, 1},
		{"/v1/check_transaction_by_hash_list", "hash", []string{paid, strings.Repeat("b", 64)},
			[]bakong.ItemStatus{"SUCCESS", "NOT_FOUND"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			e := h.check(tt.path, js(tt.keys))
			var items []map[string]json.RawMessage
			if err := json.Unmarshal(e.Data, &items); err != nil {
				t.Fatal(err)
			}
			if len(items) != len(tt.keys) {
				t.Fatalf("%d items, want %d", len(items), len(tt.keys))
			}
			for i, it := range items {
				var key, status, msg string
				json.Unmarshal(it[tt.key], &key)
				json.Unmarshal(it["status"], &status)
				json.Unmarshal(it["message"], &msg)
				if key != tt.keys[i] || bakong.ItemStatus(status) != tt.want[i] || msg == "" {
					t.Errorf("item %d: %s", i, js(it))
				}
				data, has := it["data"]
				if !has || len(it) != 4 {
					t.Errorf("item %d: want keys %s, status, message, data: %s", i, tt.key, js(it))
				}
				if (tt.want[i] == "SUCCESS") != (string(data) != "null") {
					t.Errorf("item %d: data %s", i, data)
				}
			}
			var tx wireTx
			if err := json.Unmarshal(items[tt.found]["data"], &tx); err != nil || tx.Hash != paid {
				t.Errorf("paid item data %s (%v)", items[tt.found]["data"], err)
			}
		})
	}
}

// TestAuth checks which endpoints need a token and what makes a token bad.
func TestAuth(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := newHarness(t, sim.Options{Secret: secret, TokenLifetime: time.Hour})
	other := sim.New(sim.Options{Secret: []byte("another secret")}).IssueToken(email)
	sameSecret := sim.New(sim.Options{Secret: secret, Clock: h.clock.Now}).IssueToken(email)
	parts := strings.Split(h.token, ".")
	unsigned := parts[0] + "." + parts[1] + "."
	noneAlg := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", h.token, true},
		{"other server with the same secret", sameSecret, true},
		{"none", "", false},
		{"garbage", "not-a-token", false},
		{"other secret", other, false},
		{"unsigned", unsigned, false},
		{"alg none", noneAlg, false},
		{"tampered payload", parts[0] + "." + parts[1] + "x." + parts[2], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.do(http.MethodPost, "/v1/check_transaction_by_md5", tt.token, `{"md5":"`+md5USD1+`"}`)
			want := http.StatusUnauthorized
			if tt.ok {
				want = http.StatusOK
			}
			if a.status != want {
				t.Fatalf("HTTP %d, want %d: %s", a.status, want, a.body)
			}
		})
	}
	t.Run("scheme", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/check_transaction_by_md5", strings.NewReader(`{"md5":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", h.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token without Bearer: HTTP %d, want 401", resp.StatusCode)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		h.clock.Add(time.Hour - time.Second)
		if a := h.post("/v1/check_transaction_by_md5", true, `{"md5":"x"}`); a.status != http.StatusOK {
			t.Fatalf("a second before exp: HTTP %d", a.status)
		}
		h.clock.Add(time.Second)
		a := h.post("/v1/check_transaction_by_md5", true, `{"md5":"x"}`)
		if a.status != http.StatusUnauthorized || a.env(t).code() != 6 {
			t.Fatalf("at exp: HTTP %d %s, want 401 errorCode 6", a.status, a.body)
		}
		a = h.post("/v1/renew_token", false, `{"email":"`+email+`"}`)
		var data struct{ Token string }
		json.Unmarshal(a.env(t).Data, &data)
		if a := h.do(http.MethodPost, "/v1/check_transaction_by_md5", data.Token, `{"md5":"x"}`); a.status != http.StatusOK {
			t.Fatalf("renewed token: HTTP %d", a.status)
		}
	})
	t.Run("calls", func(t *testing.T) {
		h.sim.ResetCalls()
		h.do(http.MethodPost, "/v1/check_bakong_account", "", `{"accountId":"a@b"}`)
		h.do(http.MethodPost, "/v1/check_bakong_account", "bad", `{"accountId":"a@b"}`)
		calls := h.sim.Calls()
		if len(calls) != 2 || calls[0].Authorized || calls[1].Authorized || calls[0].HTTPStatus != 200 {
			t.Errorf("calls %+v", calls)
		}
	})
}

// TestRenewInvalidatesOld checks both settings of the unknown renew behaviour.
func TestRenewInvalidatesOld(t *testing.T) {
	for _, invalidate := range []bool{false, true} {
		t.Run(fmt.Sprint(invalidate), func(t *testing.T) {
			h := newHarness(t, sim.Options{RenewInvalidatesOld: invalidate})
			old := h.token
			a := h.post("/v1/renew_token", false, `{"email":"`+email+`"}`)
			var data struct{ Token string }
			if err := json.Unmarshal(a.env(t).Data, &data); err != nil || data.Token == "" || data.Token == old {
				t.Fatalf("renew: %s", a.body)
			}
			status := func(tok string) int {
				return h.do(http.MethodPost, "/v1/check_transaction_by_md5", tok, `{"md5":"x"}`).status
			}
			if got := status(data.Token); got != http.StatusOK {
				t.Errorf("new token: HTTP %d", got)
			}
			want := http.StatusOK
			if invalidate {
				want = http.StatusUnauthorized
			}
			if got := status(old); got != want {
				t.Errorf("old token: HTTP %d, want %d", got, want)
			}
		})
	}
}

// TestTokenFlow walks request_token, the emailed code, verify and the token.
func TestTokenFlow(t *testing.T) {
	h := newHarness(t, sim.Options{})
	const who = "new@example.com"
	if _, sent := h.sim.LastCode(who); sent {
		t.Fatal("a code before request_token")
	}
	h.post("/v1/request_token", false, `{"email":"`+who+`","organization":"Shop","project":"Bot"}`)
	code, sent := h.sim.LastCode(who)
	if !sent || len(code) != 20 {
		t.Fatalf("code %q", code)
	}
	a := h.post("/v1/verify", false, `{"code":"`+code+`"}`)
	e := a.env(t)
	var data struct{ Token string }
	if err := json.Unmarshal(e.Data, &data); err != nil || e.ResponseMessage != "Token has been issued" || e.ErrorCode != nil {
		t.Fatalf("verify: %s", a.body)
	}
	if a := h.do(http.MethodPost, "/v1/check_transaction_by_md5", data.Token, `{"md5":"x"}`); a.status != http.StatusOK {
		t.Errorf("verified token: HTTP %d", a.status)
	}
	if a := h.post("/v1/verify", false, `{"code":"`+code+`"}`); a.status != http.StatusUnauthorized {
		t.Errorf("code used twice: HTTP %d", a.status)
	}
	if e := h.post("/v1/request_token", false, `{"email":"`+who+`","organization":"Shop","project":"Bot"}`).env(t); e.code() != 8 {
		t.Errorf("request after verify: errorCode %d, want 8", e.code())
	}
	if e := h.post("/v1/renew_token", false, `{"email":"`+who+`"}`).env(t); e.code() != 0 {
		t.Errorf("renew after verify: errorCode %d", e.code())
	}
}

// TestDeeplinksUnique checks that every call gets a fresh https link.
func TestDeeplinksUnique(t *testing.T) {
	h := newHarness(t, sim.Options{})
	seen := map[string]bool{}
	for range 20 {
		e := h.post("/v1/generate_deeplink_by_qr", false, `{"qr":"`+qrUSD1+`"}`).env(t)
		var data struct{ ShortLink string }
		json.Unmarshal(e.Data, &data)
		if !strings.HasPrefix(data.ShortLink, "https://bakongsim.page.link/") || seen[data.ShortLink] {
			t.Fatalf("link %q", data.ShortLink)
		}
		seen[data.ShortLink] = true
	}
}

// TestPaths checks wrong paths, methods and content types.
func TestPaths(t *testing.T) {
	h := newHarness(t, sim.Options{})
	tests := []struct {
		name, method, path, contentType string
		status                          int
		html                            bool
	}{
		{"unknown path", http.MethodPost, "/v1/check_transaction_by_md6", "application/json", 404, true},
		{"root", http.MethodGet, "/", "", 404, true},
		{"GET", http.MethodGet, "/v1/check_transaction_by_md5", "", 405, true},
		{"PUT", http.MethodPut, "/v1/renew_token", "application/json", 405, true},
		{"text body", http.MethodPost, "/v1/renew_token", "text/plain", 415, false},
		{"charset", http.MethodPost, "/v1/renew_token", "application/json; charset=utf-8", 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, h.url+tt.path, strings.NewReader(`{"email":"`+email+`"}`))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, tt.status)
			}
			if html := resp.Header.Get("Content-Type") == "text/html"; html != tt.html {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}

// TestPayRules checks the Go payment API's rules.
func TestPayRules(t *testing.T) {
	h := newHarness(t, sim.Options{})
	if _, err := h.sim.PayQR(qrUSD1, sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.PayMD5(md5USD1, sim.Payment{}); err == nil || !strings.Contains(err.Error(), sim.ErrSettled.Error()) {
		t.Errorf("second payment: %v, want ErrSettled", err)
	}
	if err := h.sim.Fail(md5USD1); err == nil {
		t.Error("fail a paid QR: no error")
	}
	if err := h.sim.Fail(md5KHR100); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.PayQR(qrKHR100, sim.Payment{}); err == nil {
		t.Error("pay a failed QR: no error")
	}
	if _, err := h.sim.PayQR(qrStatic, sim.Payment{}); err == nil {
		t.Error("pay a static QR without an amount: no error")
	}
	for range 2 {
		if _, err := h.sim.PayQR(qrStatic, sim.Payment{Amount: 100}); err != nil {
			t.Errorf("pay a static QR: %v", err)
		}
	}
	if err := h.sim.Fail(md5Static); err == nil {
		t.Error("fail a static QR: no error")
	}
	unknown := strings.Repeat("c", 32)
	if _, err := h.sim.PayMD5(unknown, sim.Payment{Amount: 5}); err == nil {
		t.Error("pay an unknown md5 without currency and receiver: no error")
	}
	tx, err := h.sim.PayMD5(unknown, sim.Payment{Amount: 5, Currency: "KHR", ToAccount: "x@y", FromAccount: "me@bank"})
	if err != nil || tx.Amount != 5 || tx.ToAccountID != "x@y" || tx.FromAccountID != "me@bank" || tx.CreatedDateMs != start.UnixMilli() {
		t.Errorf("pay an unknown md5 in full: %+v %v", tx, err)
	}
	for _, p := range []sim.Payment{{Amount: -1}, {Currency: "EUR"}} {
		if _, err := h.sim.PayQR(qrUSD100_50, p); err == nil {
			t.Errorf("payment %+v: no error", p)
		}
	}
	if _, err := h.sim.PayQR("not a KHQR", sim.Payment{}); err == nil {
		t.Error("pay garbage: no error")
	}
	if _, err := h.sim.RegisterQR(qrUSD1[:len(qrUSD1)-1] + "0"); err == nil {
		t.Error("register a QR with a bad CRC: no error")
	}
	if _, err := h.sim.PayQR(qrUSD0_01, sim.Payment{InstructionRef: "R1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.PayQR(qrUSD100_50, sim.Payment{InstructionRef: "R1"}); err == nil {
		t.Error("instruction ref used twice: no error")
	}
}

// TestPayFindsEverywhere checks one payment under every key it is known by.
func TestPayFindsEverywhere(t *testing.T) {
	h := newHarness(t, sim.Options{})
	tx, err := h.sim.PayQR(qrUSD100_50, sim.Payment{InstructionRef: "IR-9", Description: "Cashier-01"})
	if err != nil {
		t.Fatal(err)
	}
	want := bakong.Transaction{Hash: tx.Hash, FromAccountID: "abaakhppxxx@abaa", ToAccountID: receiver, Currency: "USD",
		Amount: 10050, Description: "Cashier-01", CreatedDateMs: start.UnixMilli(), AcknowledgedDateMs: start.UnixMilli() + 1000,
		InstructionRef: "IR-9", ExternalRef: tx.ExternalRef}
	if !reflect.DeepEqual(*tx, want) {
		t.Errorf("transaction %+v, want %+v", *tx, want)
	}
	for _, q := range []struct{ path, body string }{
		{"/v1/check_transaction_by_md5", js(map[string]string{"md5": md5Hex(qrUSD100_50)})},
		{"/v1/check_transaction_by_hash", js(map[string]string{"hash": tx.Hash})},
		{"/v1/check_transaction_by_short_hash", `{"hash":"` + tx.Hash[:8] + `","amount":100.50,"currency":"USD"}`},
		{"/v1/check_transaction_by_short_hash", `{"hash":"` + tx.Hash[:8] + `","amount":"100.5","currency":"USD"}`},
		{"/v1/check_transaction_by_instruction_ref", `{"instructionRef":"IR-9"}`},
		{"/v1/check_transaction_by_external_ref", js(map[string]string{"externalRef": tx.ExternalRef})},
	} {
		e := h.check(q.path, q.body)
		var got wireTx
		if err := json.Unmarshal(e.Data, &got); err != nil || got.Hash != tx.Hash || string(got.Amount) != "100.5" {
			t.Errorf("%s %s: %s", q.path, q.body, e.Data)
		}
	}
}
