package sim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// ctl calls the control API and decodes its JSON answer into out (when not nil).
func (h *harness) ctl(method, path, body string, out any) int {
	h.t.Helper()
	a := h.do(method, path, "", body)
	if out != nil && a.status < 300 {
		if err := json.Unmarshal(a.body, out); err != nil {
			h.t.Fatalf("%s %s: %s: %v", method, path, a.body, err)
		}
	}
	if a.status >= 400 {
		var e struct{ Error string }
		if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
			h.t.Errorf("%s %s: error answer %s, want {\"error\": ...}", method, path, a.body)
		}
	}
	return a.status
}

// TestControlAPI drives the simulator over HTTP as a shell or another process would.
func TestControlAPI(t *testing.T) {
	h := newHarness(t, sim.Options{})

	var reg map[string]any
	if st := h.ctl("POST", "/_sim/register", `{"qr":"`+qrUSD100_50+`"}`, &reg); st != 200 {
		t.Fatalf("register: HTTP %d", st)
	}
	want := map[string]any{"md5": md5Hex(qrUSD100_50), "static": false, "amount": "100.50", "currency": "USD",
		"toAccount": receiver, "expiresAtMs": float64(1767226200000)}
	if js(reg) != js(want) {
		t.Errorf("register: %s, want %s", js(reg), js(want))
	}
	if st := h.ctl("POST", "/_sim/register", `{"qr":"nonsense"}`, nil); st != 400 {
		t.Errorf("register nonsense: HTTP %d", st)
	}

	late := start.Add(20 * time.Minute).UnixMilli()
	var tx map[string]any
	body := `{"md5":"` + md5Hex(qrUSD100_50) + `","amount":"100.49","fromAccount":"payer@wing","createdAtMs":` + js(late) + `}`
	if st := h.ctl("POST", "/_sim/pay", body, &tx); st != 200 {
		t.Fatalf("pay: HTTP %d", st)
	}
	if tx["amount"] != 100.49 || tx["currency"] != "USD" || tx["fromAccountId"] != "payer@wing" || tx["createdDateMs"] != float64(late) {
		t.Errorf("pay: %s", js(tx))
	}
	e := h.check("/v1/check_transaction_by_md5", `{"md5":"`+md5Hex(qrUSD100_50)+`"}`)
	if !strings.Contains(string(e.Data), `"amount":100.49`) {
		t.Errorf("md5 check after pay: %s", e.Data)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"pay again", "POST", "/_sim/pay", `{"md5":"` + md5Hex(qrUSD100_50) + `"}`, 409},
		{"pay by qr in riel", "POST", "/_sim/pay", `{"qr":"` + qrUSD1 + `","amount":"4100","currency":"KHR"}`, 200},
		{"pay static", "POST", "/_sim/pay", `{"qr":"` + qrStatic + `","amount":"5000"}`, 200},
		{"pay static without amount", "POST", "/_sim/pay", `{"qr":"` + qrStatic + `"}`, 400},
		{"pay sub-cent", "POST", "/_sim/pay", `{"qr":"` + qrUSD0_01 + `","amount":"0.001"}`, 400},
		{"pay bad amount", "POST", "/_sim/pay", `{"qr":"` + qrUSD0_01 + `","amount":"ten"}`, 400},
		{"pay both", "POST", "/_sim/pay", `{"qr":"` + qrUSD0_01 + `","md5":"x"}`, 400},
		{"pay neither", "POST", "/_sim/pay", `{}`, 400},
		{"pay unknown md5", "POST", "/_sim/pay", `{"md5":"` + strings.Repeat("d", 32) + `"}`, 404},
		{"pay unknown md5 in full", "POST", "/_sim/pay", `{"md5":"` + strings.Repeat("d", 32) + `","amount":"2.5","currency":"USD","toAccount":"a@b"}`, 200},
		{"pay typo", "POST", "/_sim/pay", `{"md55":"x"}`, 400},
		{"fail", "POST", "/_sim/fail", `{"md5":"` + md5KHR100 + `"}`, 200},
		{"fail again", "POST", "/_sim/fail", `{"md5":"` + md5KHR100 + `"}`, 409},
		{"fail nothing", "POST", "/_sim/fail", `{}`, 400},
		{"token", "POST", "/_sim/token", `{"email":"x@y.z"}`, 200},
		{"token without email", "POST", "/_sim/token", `{}`, 400},
		{"codes none", "GET", "/_sim/codes?email=nobody@x.y", "", 404},
		{"fault", "POST", "/_sim/faults", `{"endpoint":"check_transaction_by_hash","status":503,"count":1}`, 204},
		{"fault bad", "POST", "/_sim/faults", `{"endpoint":"nowhere","status":503}`, 400},
		{"fault bad ratio", "POST", "/_sim/faults", `{"ratio":2}`, 400},
		{"unknown", "GET", "/_sim/nothing", "", 404},
		{"wrong method", "GET", "/_sim/pay", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := h.ctl(tt.method, tt.path, tt.body, nil); st != tt.status {
				t.Errorf("HTTP %d, want %d", st, tt.status)
			}
		})
	}
	if e := h.check("/v1/check_transaction_by_md5", `{"md5":"`+md5KHR100+`"}`); e.code() != 3 {
		t.Errorf("failed over control API: errorCode %d", e.code())
	}
	if a := h.post("/v1/check_transaction_by_hash", true, `{"hash":"x"}`); a.status != 503 {
		t.Errorf("fault over control API: HTTP %d", a.status)
	}
	h.ctl("POST", "/_sim/faults", `{"latencyMs":1,"retryAfterMs":3000,"ratio":0.5,"serviceFailed":["*"],"amountAsString":true,"floatTimestamps":true,"itemInline":true,"expireTokens":true,"geoBlock":true,"listRefused":true,"errorCode":9}`, nil)
	if st := h.ctl("DELETE", "/_sim/faults", "", nil); st != 204 {
		t.Errorf("clear faults: HTTP %d", st)
	}
	if a := h.post("/v1/check_transaction_by_hash", true, `{"hash":"x"}`); a.status != 200 {
		t.Errorf("after DELETE /_sim/faults: HTTP %d", a.status)
	}

	h.post("/v1/request_token", false, `{"email":"new@x.y","organization":"o","project":"p"}`)
	var code map[string]string
	if st := h.ctl("GET", "/_sim/codes?email=new@x.y", "", &code); st != 200 || len(code["code"]) != 20 {
		t.Errorf("codes: HTTP %d %v", st, code)
	}
	var tok map[string]string
	h.ctl("POST", "/_sim/token", `{"email":"x@y.z"}`, &tok)
	if a := h.do("POST", "/v1/check_transaction_by_md5", tok["token"], `{"md5":"x"}`); a.status != 200 {
		t.Errorf("control token: HTTP %d", a.status)
	}

	h.sim.ResetCalls()
	req, _ := http.NewRequest("POST", h.url+"/v1/check_transaction_by_md5", strings.NewReader(`{"md5":"abc"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("X-Request-ID", "req-42")
	req.Header.Set("User-Agent", "khqrbot/test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var calls []sim.RecordedCall
	if st := h.ctl("GET", "/_sim/calls", "", &calls); st != 200 || len(calls) != 1 {
		t.Fatalf("calls: HTTP %d %+v", st, calls)
	}
	wantCall := sim.RecordedCall{Endpoint: "check_transaction_by_md5", Method: "POST", Path: "/v1/check_transaction_by_md5",
		HTTPStatus: 200, ResponseCode: 1, ErrorCode: 1, RequestID: "req-42", UserAgent: "khqrbot/test", Authorized: true,
		At: start, Body: `{"md5":"abc"}`}
	if got := calls[0]; !got.At.Equal(wantCall.At) || js(got) != js(wantCall) {
		t.Errorf("call %s, want %s", js(got), js(wantCall))
	}
	if st := h.ctl("DELETE", "/_sim/calls", "", nil); st != 204 || len(h.sim.Calls()) != 0 {
		t.Errorf("DELETE /_sim/calls: HTTP %d, %d calls left", st, len(h.sim.Calls()))
	}
}
