package bakong

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Literal bodies from NBC's Open API documentation.
const (
	docPaid = `{"responseCode": 0, "responseMessage": "Getting transaction successfully.",
   "data": {"hash": "8465d722d7d5065f2886f0a474a4d34dc6a7855355b611836f7b6111228893e9",
            "fromAccountId": "rieu_dhqj_1984@devb", "toAccountId": "bridge_account@devb",
            "currency": "USD", "amount": 1.0, "description": "testing bakong generator"}}`
	docLive = `{"responseCode":0,"responseMessage":"Getting transaction successfully.","errorCode":null,"data":
   {"hash": "a7121ca103c0000000000000000000000000000000000000000000000eb3671b9601a6", "fromAccountId": "bankkhppxxx@bank",
   "toAccountId": "your_name@bank", "currency": "KHR", "amount": 9800,
   "description": "Cashier-01", "createdDateMs": 1739000000953000, "acknowledgedDateMs": 1739000000954000,
   "trackingStatus": null, "receiverBank": null, "receiverBankAccount": null,
   "instructionRef": null, "externalRef": "100FT36550298"}}`
	docNotFound = `{"data": null, "errorCode": 1, "responseCode": 1,
   "responseMessage": "Transaction could not be found. Please check and try again."}`
	docFailed = `{"data": null, "errorCode": 3, "responseCode": 1, "responseMessage": "Transaction failed."}`
	doc401    = `{"responseCode":1,"responseMessage":"Unauthorized, not yet requested for token or code invalid","errorCode":6,"data":null}`
	nginx403  = "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	nginx504  = "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>"
	docRenew  = `{"responseCode": 0, "responseMessage": "Token has been issued", "errorCode": null,
   "data": {"token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3NjcyMjU2MDB9.c2ln"}}`
	docNotRegistered = `{"responseCode": 1, "responseMessage": "Not registered yet", "errorCode": 10, "data": null}`
	docRequestToken  = `{"data": null, "errorCode": null, "responseCode": 0, "responseMessage": "Email has been sent"}`
	docVerify        = `{"data": {"token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjcyMjU2MDB9.c2ln"}, "errorCode": null,
   "responseCode": 0, "responseMessage": "Token has been issued"}`
	docDeeplink = `{"data": {"shortLink": "https://bakongsit.page.link/dGZAr1McBs1UaNmH9"}, "errorCode": null,
   "responseCode": 0, "responseMessage": "Getting deep link successfully"}`
	docAccountExists   = `{"responseCode": 0, "responseMessage": "Account ID exists", "errorCode": null, "data": null}`
	docAccountNotFound = `{"responseCode": 1, "responseMessage": "Account ID not found", "errorCode": 11, "data": null}`
	docAccountInvalid  = `{"responseCode": 1, "responseMessage": "Account ID is invalid", "errorCode": 12, "data": null}`
	docMissingFields   = `{"responseCode": 1, "responseMessage": "Missing required fields.", "errorCode": 5, "data": null}`
	docNoBackend       = `{"responseCode": 1, "responseMessage": "Cannot connect to server. Please try again later.", "errorCode": 9, "data": null}`
)

const (
	md5A  = "0dbe08d3829a8b6b59844e51aa38a4e2"
	md5B  = "7b0e5c36486d7155eb3ee94997fe9d46"
	md5C  = "e12b3ecc4c066405ce05cd8cacab884c"
	hashA = "8465d722d7d5065f2886f0a474a4d34dc6a7855355b611836f7b6111228893e9"
)

// tx builds a transaction body with amount and timestamp written as given.
func tx(amount, currency, created string) string {
	return `{"hash":"` + hashA + `","fromAccountId":"a@devb","toAccountId":"b@devb","currency":"` + currency +
		`","amount":` + amount + `,"createdDateMs":` + created + `,"acknowledgedDateMs":null}`
}

func ok(data string) string {
	return `{"responseCode":0,"responseMessage":"ok","errorCode":null,"data":` + data + `}`
}

// reply is a canned answer.
type reply struct {
	status int
	header map[string]string
	body   string
}

// fake serves canned replies by endpoint and records requests.
type fake struct {
	t       *testing.T
	mu      sync.Mutex
	replies map[string]reply
	reqs    []*http.Request
	bodies  []string
}

func newFake(t *testing.T, replies map[string]reply) (*fake, *httptest.Server) {
	f := &fake{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.bodies = append(f.bodies, string(b))
	rep, found := f.replies[strings.TrimPrefix(r.URL.Path, "/v1/")]
	f.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fake) last() (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		f.t.Fatal("no request reached the server")
	}
	return f.reqs[len(f.reqs)-1], f.bodies[len(f.bodies)-1]
}

var now = time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)

func newClient(t *testing.T, url string, o Options) *Client {
	t.Helper()
	o.BaseURL = url
	if o.Clock == nil {
		o.Clock = func() time.Time { return now }
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckMD5Answers(t *testing.T) {
	tests := []struct {
		name    string
		rep     reply
		want    *Transaction
		wantErr error
		kind    Kind
		code    int
	}{
		{name: "doc paid sample, no errorCode key", rep: reply{body: docPaid}, want: &Transaction{
			Hash: hashA, FromAccountID: "rieu_dhqj_1984@devb", ToAccountID: "bridge_account@devb",
			Currency: "USD", Amount: 100, Description: "testing bakong generator"}},
		{name: "live sample with nulls", rep: reply{body: docLive}, want: &Transaction{
			Hash: "a7121ca103c0000000000000000000000000000000000000000000000eb3671b9601a6", FromAccountID: "bankkhppxxx@bank",
			ToAccountID: "your_name@bank", Currency: "KHR", Amount: 9800, Description: "Cashier-01",
			CreatedDateMs: 1739000000953000, AcknowledgedDateMs: 1739000000954000, ExternalRef: "100FT36550298"}},
		{name: "float timestamps, string amount", rep: reply{body: ok(tx(`"1.0"`, "USD", "1605774370608.0"))},
			want: txWith(100, "USD", 1605774370608)},
		{name: "string cent", rep: reply{body: ok(tx(`"0.01"`, "USD", "1"))}, want: txWith(1, "USD", 1)},
		{name: "1.5 USD", rep: reply{body: ok(tx(`1.5`, "USD", "2"))}, want: txWith(150, "USD", 2)},
		{name: "integer USD", rep: reply{body: ok(tx(`1`, "USD", "2"))}, want: txWith(100, "USD", 2)},
		{name: "KHR with .0", rep: reply{body: ok(tx(`9800.0`, "KHR", "2"))}, want: txWith(9800, "KHR", 2)},
		{name: "Java double exponent", rep: reply{body: ok(tx(`1.0E7`, "KHR", "1.605774370608E12"))},
			want: txWith(10000000, "KHR", 1605774370608)},
		{name: "lower-case currency", rep: reply{body: ok(tx(`2.25`, "usd", "3"))}, want: txWith(225, "USD", 3)},
		{name: "too many USD decimals", rep: reply{body: ok(tx(`1.005`, "USD", "1"))}, kind: KindBadResponse},
		{name: "KHR fraction", rep: reply{body: ok(tx(`9800.5`, "KHR", "1"))}, kind: KindBadResponse},
		{name: "negative amount", rep: reply{body: ok(tx(`-1`, "USD", "1"))}, kind: KindBadResponse},
		{name: "amount not a number", rep: reply{body: ok(tx(`"1,000"`, "KHR", "1"))}, kind: KindBadResponse},
		{name: "unknown currency", rep: reply{body: ok(tx(`1`, "EUR", "1"))}, kind: KindBadResponse},
		{name: "success without data", rep: reply{body: ok(`null`)}, kind: KindBadResponse},
		{name: "data not an object", rep: reply{body: ok(`"paid"`)}, kind: KindBadResponse},
		{name: "numeric responseMessage", rep: reply{body: `{"responseCode":0,"responseMessage":200,"errorCode":null,"data":` + tx("1", "USD", "1") + `}`},
			want: txWith(100, "USD", 1)},
		{name: "numeric responseMessage, not found", rep: reply{body: `{"responseCode":1,"responseMessage":1,"errorCode":1,"data":null}`}, wantErr: ErrNotFound},
		{name: "codes as text and floats", rep: reply{body: `{"responseCode":"1","responseMessage":"x","errorCode":1.0,"data":null}`}, wantErr: ErrNotFound},
		{name: "errorCode not a code", rep: reply{body: `{"responseCode":1,"errorCode":"one","data":null}`}, kind: KindBadResponse},
		{name: "no responseCode", rep: reply{body: `{"data":null}`}, kind: KindBadResponse},
		{name: "not an envelope", rep: reply{body: `[1,2]`}, kind: KindBadResponse},
		{name: "not found", rep: reply{body: docNotFound}, wantErr: ErrNotFound},
		{name: "failed", rep: reply{body: docFailed}, wantErr: ErrFailed},
		{name: "not found at HTTP 400 is no outcome", rep: reply{status: 400, body: docNotFound}, kind: KindAPI, code: 1},
		{name: "not found at HTTP 404 is no outcome", rep: reply{status: 404, body: docNotFound}, kind: KindAPI, code: 1},
		{name: "not found at HTTP 403 JSON is no outcome", rep: reply{status: 403, body: docNotFound}, kind: KindAPI, code: 1},
		{name: "refusal without errorCode is no outcome", rep: reply{body: `{"responseCode":1,"errorCode":null,"responseMessage":"x","data":null}`}, kind: KindAPI},
		{name: "missing fields", rep: reply{body: docMissingFields}, kind: KindAPI, code: 5},
		{name: "static QR", rep: reply{body: `{"responseCode":1,"errorCode":2,"responseMessage":"Sorry, the system does not support static QR code.","data":null}`}, kind: KindAPI, code: 2},
		{name: "backend down", rep: reply{body: docNoBackend}, kind: KindUnavailable, code: 9},
		{name: "401 envelope", rep: reply{status: 401, body: doc401}, kind: KindUnauthorized, code: 6},
		{name: "401 without body", rep: reply{status: 401}, kind: KindUnauthorized},
		{name: "403 nginx HTML", rep: reply{status: 403, body: nginx403}, kind: KindGeoBlocked},
		{name: "429", rep: reply{status: 429, body: "slow down"}, kind: KindRateLimited},
		{name: "500 HTML", rep: reply{status: 500, body: "<html>oops</html>"}, kind: KindUnavailable},
		{name: "503 envelope", rep: reply{status: 503, body: docNoBackend}, kind: KindUnavailable, code: 9},
		{name: "504 nginx", rep: reply{status: 504, body: nginx504}, kind: KindUnavailable},
		{name: "200 HTML", rep: reply{body: "<html>captive portal</html>"}, kind: KindUnavailable},
		{name: "200 empty", rep: reply{}, kind: KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFake(t, map[string]reply{"check_transaction_by_md5": tt.rep})
			c := newClient(t, srv.URL, Options{Tokens: StaticToken("tok")})
			got, err := c.CheckMD5(context.Background(), md5A)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if IsKind(err, KindAPI) {
					t.Fatal("an outcome must not be an *Error")
				}
			case tt.kind != "":
				var e *Error
				if !errors.As(err, &e) || e.Kind != tt.kind {
					t.Fatalf("err = %v, want kind %s", err, tt.kind)
				}
				if e.ErrorCode != tt.code {
					t.Fatalf("errorCode = %d, want %d", e.ErrorCode, tt.code)
				}
				if errors.Is(err, ErrNotFound) {
					t.Fatal("an error must never read as not found")
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if *got != *tt.want {
					t.Fatalf("got  %+v\nwant %+v", *got, *tt.want)
				}
			}
		})
	}
}

func txWith(amount int64, cur string, created int64) *Transaction {
	return &Transaction{Hash: hashA, FromAccountID: "a@devb", ToAccountID: "b@devb", Currency: cur, Amount: amount, CreatedDateMs: created}
}

func TestGeoBlockMessage(t *testing.T) {
	_, srv := newFake(t, map[string]reply{"check_transaction_by_md5": {status: 403, body: nginx403}})
	_, err := newClient(t, srv.URL, Options{}).CheckMD5(context.Background(), md5A)
	if !IsKind(err, KindGeoBlocked) {
		t.Fatalf("err = %v, want geo_blocked", err)
	}
	for _, want := range []string{"Cambodia", "BAKONG_PROXY_URL", "HTTP 403"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	// Merchants read this message in Telegram: no Go names.
	if strings.Contains(err.Error(), "Options") || strings.Contains(err.Error(), "ProxyURL") {
		t.Errorf("%q names Go identifiers", err)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"7", 7 * time.Second},
		{"0", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"", 0},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Retry-After"] = tt.header
			}
			_, srv := newFake(t, map[string]reply{"check_transaction_by_hash": {status: 429, header: h}})
			_, err := newClient(t, srv.URL, Options{}).CheckHash(context.Background(), hashA)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindRateLimited || e.RetryAfter != tt.want {
				t.Fatalf("err = %#v, want rate limited after %s", err, tt.want)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	si := &SourceInfo{AppIconURL: "https://x.test/i.png", AppName: "khqrbot", AppDeepLinkCallback: "https://t.me/khqrbot"}
	tests := []struct {
		name     string
		endpoint string
		body     string
		call     func(*Client) error
		wantBody string
		auth     bool
	}{
		{"md5", "check_transaction_by_md5", docNotFound, func(c *Client) error {
			_, err := c.CheckMD5(ctx, strings.ToUpper(md5A))
			return ignore(err, ErrNotFound)
		}, `{"md5":"` + md5A + `"}`, true},
		{"hash", "check_transaction_by_hash", docPaid, func(c *Client) error {
			_, err := c.CheckHash(ctx, hashA)
			return err
		}, `{"hash":"` + hashA + `"}`, true},
		{"short hash USD", "check_transaction_by_short_hash", docPaid, func(c *Client) error {
			_, err := c.CheckShortHash(ctx, "8465D722", 150, "usd")
			return err
		}, `{"hash":"8465d722","amount":1.50,"currency":"USD"}`, true},
		{"short hash KHR", "check_transaction_by_short_hash", docPaid, func(c *Client) error {
			_, err := c.CheckShortHash(ctx, "8465d722", 9800, "KHR")
			return err
		}, `{"hash":"8465d722","amount":9800,"currency":"KHR"}`, true},
		{"short hash cents", "check_transaction_by_short_hash", docPaid, func(c *Client) error {
			_, err := c.CheckShortHash(ctx, "8465d722", 1, "USD")
			return err
		}, `{"hash":"8465d722","amount":0.01,"currency":"USD"}`, true},
		{"instruction ref", "check_transaction_by_instruction_ref", docPaid, func(c *Client) error {
			_, err := c.CheckInstructionRef(ctx, "00001234")
			return err
		}, `{"instructionRef":"00001234"}`, true},
		{"external ref", "check_transaction_by_external_ref", docPaid, func(c *Client) error {
			_, err := c.CheckExternalRef(ctx, "100FT38906478429")
			return err
		}, `{"externalRef":"100FT38906478429"}`, true},
		{"md5 list", "check_transaction_by_md5_list", ok(`[]`), func(c *Client) error {
			_, err := c.CheckMD5List(ctx, []string{md5A, md5B, md5A})
			return err
		}, `["` + md5A + `","` + md5B + `"]`, true},
		{"hash list", "check_transaction_by_hash_list", ok(`[]`), func(c *Client) error {
			_, err := c.CheckHashList(ctx, []string{hashA})
			return err
		}, `["` + hashA + `"]`, true},
		{"account", "check_bakong_account", docAccountExists, func(c *Client) error {
			_, err := c.CheckAccount(ctx, "dave@devb")
			return err
		}, `{"accountId":"dave@devb"}`, false},
		{"deeplink", "generate_deeplink_by_qr", docDeeplink, func(c *Client) error {
			_, err := c.Deeplink(ctx, "000201010212")
			return err
		}, `{"qr":"000201010212","sourceInfo":{"appIconUrl":"https://x.test/i.png","appName":"khqrbot","appDeepLinkCallback":"https://t.me/khqrbot"}}`, false},
		{"renew", "renew_token", docRenew, func(c *Client) error {
			_, err := c.RenewToken(ctx, "me@shop.kh")
			return err
		}, `{"email":"me@shop.kh"}`, false},
		{"request token", "request_token", docRequestToken, func(c *Client) error {
			return c.RequestToken(ctx, "me@shop.kh", "Shop", "khqrbot")
		}, `{"email":"me@shop.kh","organization":"Shop","project":"khqrbot"}`, false},
		{"verify", "verify", docVerify, func(c *Client) error {
			_, err := c.VerifyCode(ctx, "ABCDEFGHIJ0123456789")
			return err
		}, `{"code":"ABCDEFGHIJ0123456789"}`, false},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, map[string]reply{tt.endpoint: {body: tt.body}})
			c := newClient(t, srv.URL, Options{Tokens: StaticToken("secret-token"), SourceInfo: si, UserAgent: UserAgent("1.2.3")})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			r, body := f.last()
			if r.Method != http.MethodPost || r.URL.Path != "/v1/"+tt.endpoint {
				t.Errorf("%s %s", r.Method, r.URL.Path)
			}
			if !jsonEqual(body, tt.wantBody) {
				t.Errorf("body %s, want %s", body, tt.wantBody)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			if got := r.Header.Get("User-Agent"); got != "khqrbot/1.2.3 (+https://github.com/khqrbot/khqrbot)" {
				t.Errorf("User-Agent %q", got)
			}
			id := r.Header.Get("X-Request-ID")
			if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) || ids[id] {
				t.Errorf("X-Request-ID %q: want fresh 16 hex digits", id)
			}
			ids[id] = true
			auth := r.Header.Get("Authorization")
			if tt.auth && auth != "Bearer secret-token" || !tt.auth && auth != "" {
				t.Errorf("Authorization %q, want token: %v", auth, tt.auth)
			}
		})
	}
}

var ctx = context.Background()

func ignore(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	return err
}

// jsonEqual compares JSON texts, numbers as written.
func jsonEqual(a, b string) bool {
	norm := func(s string) string {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return "invalid: " + s
		}
		out, _ := json.Marshal(v)
		return string(out)
	}
	return norm(a) == norm(b)
}

func TestList(t *testing.T) {
	list := ok(`[
	  {"md5": "` + md5C + `", "status": "STATIC_QR", "message": "static", "data": null},
	  {"md5": "` + strings.ToUpper(md5B) + `", "status": "NOT_FOUND", "message": "not found", "data": null},
	  {"md5": "ffffffffffffffffffffffffffffffff", "status": "SUCCESS", "data": ` + tx("1", "USD", "1") + `},
	  {"md5": "` + md5A + `", "status": "SUCCESS", "message": "ok", "data": ` + tx(`"1.5"`, "USD", "1605774370608.0") + `}
	]`)
	_, srv := newFake(t, map[string]reply{"check_transaction_by_md5_list": {body: list}})
	c := newClient(t, srv.URL, Options{Tokens: StaticToken("t")})
	md5D := "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"
	got, err := c.CheckMD5List(ctx, []string{md5A, md5B, md5C, md5D, md5A})
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{Key: md5A, Status: ItemSuccess, Message: "ok", Transaction: txWith(150, "USD", 1605774370608)},
		{Key: md5B, Status: ItemNotFound, Message: "not found"},
		{Key: md5C, Status: ItemStaticQR, Message: "static"},
		{Key: md5D, Status: ItemServiceFailed, Message: "missing from Bakong's answer"},
		{Key: md5A, Status: ItemSuccess, Message: "ok", Transaction: txWith(150, "USD", 1605774370608)},
	}
	checkResults(t, got, want)
}

func TestListItemForms(t *testing.T) {
	h2 := strings.Repeat("2", 64)
	h3 := strings.Repeat("3", 64)
	h4 := strings.Repeat("4", 64)
	h5 := strings.Repeat("5", 64)
	h6 := strings.Repeat("6", 64)
	inline := strings.Replace(tx("9800", "KHR", "5"), hashA, h3, 1)
	inline = `{"status":"SUCCESS","message":"inline",` + inline[1:]
	list := ok(`[
	  {"hash": "` + hashA + `", "status": "SUCCESS", "message": "under data", "data": ` + tx("1", "USD", "5") + `},
	  {"hash": "` + h2 + `", "status": "SUCCESS", "message": "under transaction", "transaction": ` + tx("2", "USD", "5") + `},
	  ` + inline + `,
	  {"hash": "` + h4 + `", "status": "FAILED", "message": "failed"},
	  {"hash": "` + h5 + `", "status": "SERVICE_FAILED", "message": "Service unavailable", "data": null},
	  {"hash": "` + h6 + `", "status": "WEIRD", "message": "?"}
	]`)
	_, srv := newFake(t, map[string]reply{"check_transaction_by_hash_list": {body: list}})
	c := newClient(t, srv.URL, Options{Tokens: StaticToken("t")})
	got, err := c.CheckHashList(ctx, []string{hashA, h2, h3, h4, h5, h6})
	if err != nil {
		t.Fatal(err)
	}
	khr := txWith(9800, "KHR", 5)
	khr.Hash = h3
	want := []Result{
		{Key: hashA, Status: ItemSuccess, Message: "under data", Transaction: txWith(100, "USD", 5)},
		{Key: h2, Status: ItemSuccess, Message: "under transaction", Transaction: txWith(200, "USD", 5)},
		{Key: h3, Status: ItemSuccess, Message: "inline", Transaction: khr},
		{Key: h4, Status: ItemFailed, Message: "failed"},
		{Key: h5, Status: ItemServiceFailed, Message: "Service unavailable"},
		{Key: h6, Status: ItemServiceFailed, Message: `unknown status "WEIRD": ?`},
	}
	checkResults(t, got, want)
}

func TestListBadItem(t *testing.T) {
	list := ok(`[{"md5":"` + md5A + `","status":"SUCCESS","data":` + tx("1.001", "USD", "1") + `}, 7]`)
	_, srv := newFake(t, map[string]reply{"check_transaction_by_md5_list": {body: list}})
	got, err := newClient(t, srv.URL, Options{}).CheckMD5List(ctx, []string{md5A})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Status != ItemServiceFailed || !strings.Contains(got[0].Message, "decimal places") || got[0].Transaction != nil {
		t.Fatalf("%+v", got[0])
	}
}

func checkResults(t *testing.T, got, want []Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Key != w.Key || g.Status != w.Status || g.Message != w.Message || (g.Transaction == nil) != (w.Transaction == nil) ||
			g.Transaction != nil && *g.Transaction != *w.Transaction {
			t.Errorf("result %d:\n got %+v %+v\nwant %+v %+v", i, g, g.Transaction, w, w.Transaction)
		}
	}
}

func TestListRefusedAndErrors(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		kind Kind
	}{
		{"nginx 403", reply{status: 403, body: nginx403}, KindListRefused},
		{"404", reply{status: 404, body: "404 page not found"}, KindListRefused},
		{"401", reply{status: 401, body: doc401}, KindUnauthorized},
		{"empty list refused by API", reply{body: docMissingFields}, KindAPI},
		{"not found at list level is no outcome", reply{body: docNotFound}, KindAPI},
		{"data not a list", reply{body: ok(`{"md5":"x"}`)}, KindBadResponse},
		{"data null", reply{body: ok(`null`)}, KindBadResponse},
		{"data absent", reply{body: `{"responseCode":0,"errorCode":null}`}, KindBadResponse},
		{"502", reply{status: 502, body: nginx504}, KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFake(t, map[string]reply{"check_transaction_by_md5_list": tt.rep, "check_transaction_by_hash_list": tt.rep})
			c := newClient(t, srv.URL, Options{})
			if _, err := c.CheckMD5List(ctx, []string{md5A}); !IsKind(err, tt.kind) {
				t.Errorf("md5 list: %v, want %s", err, tt.kind)
			}
			if _, err := c.CheckHashList(ctx, []string{hashA}); !IsKind(err, tt.kind) {
				t.Errorf("hash list: %v, want %s", err, tt.kind)
			}
		})
	}
}

func TestInvalidRequests(t *testing.T) {
	f, srv := newFake(t, nil)
	c := newClient(t, srv.URL, Options{})
	many := make([]string, 51)
	for i := range many {
		many[i] = md5A
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"short md5", func() error { _, err := c.CheckMD5(ctx, "abc"); return err }},
		{"non-hex md5", func() error { _, err := c.CheckMD5(ctx, strings.Repeat("g", 32)); return err }},
		{"md5 as hash", func() error { _, err := c.CheckHash(ctx, md5A); return err }},
		{"short hash length", func() error { _, err := c.CheckShortHash(ctx, "8465d72", 100, "USD"); return err }},
		{"short hash currency", func() error { _, err := c.CheckShortHash(ctx, "8465d722", 100, "EUR"); return err }},
		{"short hash amount", func() error { _, err := c.CheckShortHash(ctx, "8465d722", 0, "USD"); return err }},
		{"empty instruction ref", func() error { _, err := c.CheckInstructionRef(ctx, ""); return err }},
		{"empty external ref", func() error { _, err := c.CheckExternalRef(ctx, ""); return err }},
		{"51 md5s", func() error { _, err := c.CheckMD5List(ctx, many); return err }},
		{"bad md5 in list", func() error { _, err := c.CheckMD5List(ctx, []string{md5A, "x"}); return err }},
		{"bad hash in list", func() error { _, err := c.CheckHashList(ctx, []string{md5A}); return err }},
		{"account without @", func() error { _, err := c.CheckAccount(ctx, "dave"); return err }},
		{"account two @", func() error { _, err := c.CheckAccount(ctx, "a@b@c"); return err }},
		{"account too long", func() error { _, err := c.CheckAccount(ctx, strings.Repeat("a", 30)+"@devb"); return err }},
		{"empty qr", func() error { _, err := c.Deeplink(ctx, ""); return err }},
		{"email too long", func() error { _, err := c.RenewToken(ctx, strings.Repeat("a", 25)+"@x.com"); return err }},
		{"request without project", func() error { return c.RequestToken(ctx, "a@b.kh", "org", "") }},
		{"short code", func() error { _, err := c.VerifyCode(ctx, "123"); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !IsKind(err, KindInvalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	if len(f.reqs) != 0 {
		t.Fatalf("%d requests sent for refused calls", len(f.reqs))
	}
	if got, err := c.CheckMD5List(ctx, nil); got != nil || err != nil {
		t.Fatalf("empty list: %v %v", got, err)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"bad base URL", Options{BaseURL: "ftp://x"}},
		{"relative base URL", Options{BaseURL: "/v1"}},
		{"bad proxy", Options{ProxyURL: "socks9://p:1"}},
		{"partial source info", Options{SourceInfo: &SourceInfo{AppName: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.o); !IsKind(err, KindInvalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
	if _, err := New(Options{SourceInfo: &SourceInfo{AppName: "x"}}); err == nil || !strings.Contains(err.Error(), "appIconUrl, appDeepLinkCallback required") {
		t.Errorf("partial source info: %v, want the API's names of the missing fields", err)
	}
	if _, err := New(Options{ProxyURL: "http://user:pw@proxy.kh:3128"}); err != nil {
		t.Fatal(err)
	}
}

func TestOtherEndpoints(t *testing.T) {
	f, srv := newFake(t, map[string]reply{})
	c := newClient(t, srv.URL, Options{})
	set := func(ep, body string) { f.mu.Lock(); f.replies[ep] = reply{body: body}; f.mu.Unlock() }

	set("check_bakong_account", docAccountExists)
	if ok, err := c.CheckAccount(ctx, "dave@devb"); !ok || err != nil {
		t.Errorf("exists: %v %v", ok, err)
	}
	set("check_bakong_account", docAccountNotFound)
	if ok, err := c.CheckAccount(ctx, "dope@devb"); ok || err != nil {
		t.Errorf("not found: %v %v", ok, err)
	}
	set("check_bakong_account", docAccountInvalid)
	if _, err := c.CheckAccount(ctx, "do@pe"); !IsKind(err, KindAPI) || !strings.Contains(err.Error(), "Account ID is invalid") {
		t.Errorf("invalid: %v", err)
	}
	set("generate_deeplink_by_qr", docDeeplink)
	if link, err := c.Deeplink(ctx, "00020101"); link != "https://bakongsit.page.link/dGZAr1McBs1UaNmH9" || err != nil {
		t.Errorf("deeplink: %q %v", link, err)
	}
	set("generate_deeplink_by_qr", `{"responseCode":1,"errorCode":5,"responseMessage":"Missing required fields.","data":null}`)
	if _, err := c.Deeplink(ctx, "00020101"); !IsKind(err, KindAPI) {
		t.Errorf("deeplink error: %v", err)
	}
	set("generate_deeplink_by_qr", ok(`{}`))
	if _, err := c.Deeplink(ctx, "00020101"); !IsKind(err, KindBadResponse) {
		t.Errorf("deeplink without link: %v", err)
	}
	set("renew_token", docRenew)
	if tok, err := c.RenewToken(ctx, "me@shop.kh"); !strings.HasPrefix(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.") || err != nil {
		t.Errorf("renew: %q %v", tok, err)
	}
	set("renew_token", docNotRegistered)
	var e *Error
	if _, err := c.RenewToken(ctx, "who@shop.kh"); !errors.As(err, &e) || e.Kind != KindAPI || e.ErrorCode != 10 || e.Message != "Not registered yet" {
		t.Errorf("renew unknown: %v", err)
	}
	set("request_token", `{"data": null, "errorCode": 8, "responseCode": 1, "responseMessage": "Email has been registered already."}`)
	if err := c.RequestToken(ctx, "me@shop.kh", "o", "p"); !IsKind(err, KindAPI) {
		t.Errorf("request again: %v", err)
	}
	set("verify", docVerify)
	if tok, err := c.VerifyCode(ctx, "ABCDEFGHIJ0123456789"); !strings.HasPrefix(tok, "eyJ0eXAi") || err != nil {
		t.Errorf("verify: %q %v", tok, err)
	}
	if d, err := DecodeExpiry(func() string { tok, _ := c.VerifyCode(ctx, "ABCDEFGHIJ0123456789"); return tok }()); err != nil || d.Unix() != 1767225600 {
		t.Errorf("verify token exp: %v %v", d, err)
	}
	set("verify", `{"data":null,"errorCode":6,"responseCode":1,"responseMessage":"Unauthorized, not yet requested for token or code invalid"}`)
	if _, err := c.VerifyCode(ctx, "ABCDEFGHIJ0123456789"); !IsKind(err, KindUnauthorized) {
		t.Errorf("verify bad code: %v", err)
	}
}

func TestWrongPath(t *testing.T) {
	_, srv := newFake(t, map[string]reply{})
	_, err := newClient(t, srv.URL, Options{}).CheckMD5(ctx, md5A)
	if !IsKind(err, KindAPI) || !strings.Contains(err.Error(), "base URL") {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, srv.URL, Options{Timeout: 50 * time.Millisecond})
	_, err := c.CheckMD5(ctx, md5A)
	if !IsKind(err, KindUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer in time") {
		t.Fatalf("err = %v", err)
	}
}

func TestConnectRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(t, url, Options{}).CheckMD5(ctx, md5A)
	if !IsKind(err, KindUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

// leaky is a transport whose errors quote the request, token included.
type leaky struct{}

func (leaky) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("dial failed for " + r.URL.String() + " with " + r.Header.Get("Authorization"))
}

func TestTokenNeverLeaks(t *testing.T) {
	const tok = "eyJSECRETTOKEN.payload.sig"
	var calls []Call
	c, err := New(Options{
		BaseURL:    "http://user:" + tok + "@bakong.test",
		Tokens:     StaticToken(tok),
		HTTPClient: &http.Client{Transport: leaky{}},
		Observer:   func(c Call) { calls = append(calls, c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CheckMD5(ctx, md5A)
	if !IsKind(err, KindUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), tok) {
		t.Fatalf("error text leaks the token: %s", err)
	}
	if len(calls) != 1 || calls[0].Err == "" || strings.Contains(calls[0].Err, tok) {
		t.Fatalf("observer: %+v", calls)
	}
}

func TestObserver(t *testing.T) {
	_, srv := newFake(t, map[string]reply{
		"check_transaction_by_md5":  {body: docNotFound},
		"check_transaction_by_hash": {status: 403, body: nginx403},
		"renew_token":               {body: docRenew},
	})
	var calls []Call
	clock := now
	c := newClient(t, srv.URL, Options{Tokens: StaticToken("sekrit"), Observer: func(c Call) { calls = append(calls, c) },
		Clock: func() time.Time { clock = clock.Add(10 * time.Millisecond); return clock }})
	c.CheckMD5(ctx, md5A)
	c.CheckHash(ctx, hashA)
	c.RenewToken(ctx, "me@shop.kh")
	if len(calls) != 3 {
		t.Fatalf("%d calls", len(calls))
	}
	want := []Call{
		{Endpoint: "check_transaction_by_md5", HTTPStatus: 200, ResponseCode: 1, ErrorCode: 1, Outcome: OutcomeNotFound},
		{Endpoint: "check_transaction_by_hash", HTTPStatus: 403, ResponseCode: -1, Outcome: string(KindGeoBlocked)},
		{Endpoint: "renew_token", HTTPStatus: 200, ResponseCode: 0, Outcome: OutcomeOK},
	}
	for i, w := range want {
		g := calls[i]
		if g.Endpoint != w.Endpoint || g.HTTPStatus != w.HTTPStatus || g.ResponseCode != w.ResponseCode || g.ErrorCode != w.ErrorCode || g.Outcome != w.Outcome ||
			g.Latency != 10*time.Millisecond || len(g.RequestID) != 16 || g.At.IsZero() {
			t.Errorf("call %d: %+v, want %+v", i, g, w)
		}
		if strings.Contains(g.Err, "sekrit") {
			t.Errorf("call %d leaks the token", i)
		}
	}
	if calls[0].Err != "" || !strings.Contains(calls[1].Err, "Cambodia") || calls[2].Err != "" {
		t.Errorf("Err fields: %q %q %q", calls[0].Err, calls[1].Err, calls[2].Err)
	}
}

// TestCallKey: every call tells the observer what it was about, but never
// the code that buys a token.
func TestCallKey(t *testing.T) {
	_, srv := newFake(t, nil) // every answer is a 404: the calls are made all the same
	const qr = "00020101021229180014shop@aclb5204599953038405802KH5909Shop Name6010Phnom Penh6304A1B2"
	tests := []struct {
		name string
		call func(*Client)
		want string
	}{
		{"md5", func(c *Client) { c.CheckMD5(ctx, strings.ToUpper(md5A)) }, md5A},
		{"hash", func(c *Client) { c.CheckHash(ctx, hashA) }, hashA},
		{"short hash", func(c *Client) { c.CheckShortHash(ctx, hashA[:8], 500, "USD") }, hashA[:8]},
		{"instruction ref", func(c *Client) { c.CheckInstructionRef(ctx, "INS-1") }, "INS-1"},
		{"external ref", func(c *Client) { c.CheckExternalRef(ctx, "100FT389") }, "100FT389"},
		{"md5 list", func(c *Client) { c.CheckMD5List(ctx, []string{md5A, md5B, md5A}) }, "2 md5s"},
		{"hash list", func(c *Client) { c.CheckHashList(ctx, []string{hashA}) }, "1 hashes"},
		{"deeplink", func(c *Client) { c.Deeplink(ctx, qr) }, fmt.Sprintf("%x", md5.Sum([]byte(qr)))},
		{"account", func(c *Client) { c.CheckAccount(ctx, "shop@aclb") }, "shop@aclb"},
		{"request token", func(c *Client) { c.RequestToken(ctx, "me@shop.kh", "Shop", "khqrbot") }, "me@shop.kh"},
		{"renew token", func(c *Client) { c.RenewToken(ctx, "me@shop.kh") }, "me@shop.kh"},
		{"verify code", func(c *Client) { c.VerifyCode(ctx, "ABCDEFGHIJ0123456789") }, ""},
	}
	for _, tt := range tests {
		var calls []Call
		c := newClient(t, srv.URL, Options{Tokens: StaticToken("sekrit"), Observer: func(c Call) { calls = append(calls, c) }})
		tt.call(c)
		if len(calls) != 1 || calls[0].Key != tt.want {
			t.Errorf("%s: calls %+v, want one with key %q", tt.name, calls, tt.want)
			continue
		}
		if !slices.Contains(Endpoints(), calls[0].Endpoint) {
			t.Errorf("%s: endpoint %q is missing from Endpoints()", tt.name, calls[0].Endpoint)
		}
		if k := Kind(calls[0].Outcome); !slices.Contains(Kinds(), k) {
			t.Errorf("%s: outcome %q of a 404 is not an error Kind", tt.name, k)
		}
	}
}

func TestProxy(t *testing.T) {
	var host string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.URL.Host
		io.WriteString(w, docPaid)
	}))
	defer proxy.Close()
	c, err := New(Options{BaseURL: "http://api-bakong.test", ProxyURL: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckMD5(ctx, md5A); err != nil {
		t.Fatal(err)
	}
	if host != "api-bakong.test" {
		t.Fatalf("proxy saw host %q", host)
	}
}
