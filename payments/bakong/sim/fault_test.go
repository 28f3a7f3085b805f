package sim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestGatewayFaults checks the faults that answer instead of the API.
func TestGatewayFaults(t *testing.T) {
	h := newHarness(t, sim.Options{})
	h.pay(qrUSD1, sim.Payment{})
	md5Body := `{"md5":"` + md5USD1 + `"}`
	tests := []struct {
		name       string
		endpoint   string
		fault      sim.Fault
		path       string
		auth       bool
		body       string
		status     int
		html       string // a substring of the HTML page; "" = a JSON envelope
		code       int
		retryAfter string
	}{
		{"geo block", "*", sim.Fault{GeoBlock: true}, "/v1/check_transaction_by_md5", true, md5Body, 403, "<title>403 Forbidden</title>", 0, ""},
		{"geo block before auth", "", sim.Fault{GeoBlock: true}, "/v1/check_transaction_by_md5", false, md5Body, 403, "nginx", 0, ""},
		{"geo block account", "*", sim.Fault{GeoBlock: true}, "/v1/check_bakong_account", false, `{"accountId":"a@b"}`, 403, "403 Forbidden", 0, ""},
		{"list refused md5_list", "*", sim.Fault{ListRefused: true}, "/v1/check_transaction_by_md5_list", true, `["` + md5USD1 + `"]`, 403, "403 Forbidden", 0, ""},
		{"list refused hash_list", "check_transaction_by_hash_list", sim.Fault{ListRefused: true}, "/v1/check_transaction_by_hash_list", true, `["x"]`, 403, "403 Forbidden", 0, ""},
		{"list refused spares md5", "*", sim.Fault{ListRefused: true}, "/v1/check_transaction_by_md5", true, md5Body, 200, "", 0, ""},
		{"500", "*", sim.Fault{Status: 500}, "/v1/check_transaction_by_md5", true, md5Body, 500, "<title>500 Internal Server Error</title>", 0, ""},
		{"502", "*", sim.Fault{Status: 502}, "/v1/check_transaction_by_md5", true, md5Body, 502, "502 Bad Gateway", 0, ""},
		{"503", "check_transaction_by_md5", sim.Fault{Status: 503}, "/v1/check_transaction_by_md5", true, md5Body, 503, "503 Service Temporarily Unavailable", 0, ""},
		{"504", "/v1/check_transaction_by_md5", sim.Fault{Status: 504}, "/v1/check_transaction_by_md5", true, md5Body, 504, "504 Gateway Time-out", 0, ""},
		{"401", "*", sim.Fault{Status: 401}, "/v1/check_transaction_by_md5", true, md5Body, 401, "", 6, ""},
		{"400", "*", sim.Fault{Status: 400}, "/v1/check_transaction_by_md5", true, md5Body, 400, "", 5, ""},
		{"429 retry after", "*", sim.Fault{RetryAfter: 1500 * time.Millisecond}, "/v1/check_transaction_by_md5", true, md5Body, 429, "429 Too Many Requests", 0, "2"},
		{"429 plain", "*", sim.Fault{Status: 429}, "/v1/renew_token", false, `{"email":"x@y.z"}`, 429, "429 Too Many Requests", 0, ""},
		{"errorCode 9", "*", sim.Fault{ErrorCode: 9}, "/v1/check_transaction_by_md5", true, md5Body, 200, "", 9, ""},
		{"errorCode 4 deeplink", "generate_deeplink_by_qr", sim.Fault{ErrorCode: 4}, "/v1/generate_deeplink_by_qr", false, `{"qr":"` + qrUSD1 + `"}`, 200, "", 4, ""},
		{"errorCode 7 renew", "renew_token", sim.Fault{ErrorCode: 7}, "/v1/renew_token", false, `{"email":"` + email + `"}`, 200, "", 7, ""},
		{"expired tokens", "*", sim.Fault{ExpireTokens: true}, "/v1/check_transaction_by_md5", true, md5Body, 401, "", 6, ""},
		{"expired tokens spare account", "*", sim.Fault{ExpireTokens: true}, "/v1/check_bakong_account", true, `{"accountId":"` + receiver + `"}`, 200, "", 0, ""},
		{"other endpoint untouched", "check_transaction_by_hash", sim.Fault{Status: 500}, "/v1/check_transaction_by_md5", true, md5Body, 200, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.sim.ClearFaults()
			if err := h.sim.SetFault(tt.endpoint, tt.fault); err != nil {
				t.Fatal(err)
			}
			a := h.post(tt.path, tt.auth, tt.body)
			if a.status != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", a.status, tt.status, a.body)
			}
			if got := a.header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if tt.html != "" {
				if ct := a.header.Get("Content-Type"); ct != "text/html" || !strings.Contains(string(a.body), tt.html) {
					t.Errorf("%s %q, want HTML with %q", ct, a.body, tt.html)
				}
				if json.Valid(a.body) {
					t.Errorf("HTML page is JSON: %s", a.body)
				}
				return
			}
			if e := a.env(t); e.code() != tt.code {
				t.Errorf("errorCode %d, want %d: %s", e.code(), tt.code, a.body)
			}
		})
	}
}

// TestShapeFaults checks the faults that change how transactions are written.
func TestShapeFaults(t *testing.T) {
	h := newHarness(t, sim.Options{})
	paid := h.pay(qrUSD1, sim.Payment{})
	h.pay(qrUSD100_50, sim.Payment{})
	ms := start.UnixMilli()
	single := func(t *testing.T) map[string]json.RawMessage {
		var tx map[string]json.RawMessage
		if err := json.Unmarshal(h.check("/v1/check_transaction_by_md5", `{"md5":"`+md5USD1+`"}`).Data, &tx); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	items := func(t *testing.T, path, keys string) []map[string]json.RawMessage {
		var its []map[string]json.RawMessage
		if err := json.Unmarshal(h.check(path, keys).Data, &its); err != nil {
			t.Fatal(err)
		}
		return its
	}
	t.Run("amount as string", func(t *testing.T) {
		h.sim.ClearFaults()
		h.sim.SetFault("*", sim.Fault{AmountAsString: true})
		if got := string(single(t)["amount"]); got != `"1.00"` {
			t.Errorf("amount %s, want \"1.00\"", got)
		}
	})
	t.Run("float timestamps", func(t *testing.T) {
		h.sim.ClearFaults()
		h.sim.SetFault("*", sim.Fault{FloatTimestamps: true})
		tx := single(t)
		if got := string(tx["createdDateMs"]); got != jsFloat(ms) {
			t.Errorf("createdDateMs %s, want %s", got, jsFloat(ms))
		}
		if got := string(tx["acknowledgedDateMs"]); got != jsFloat(ms+1000) {
			t.Errorf("acknowledgedDateMs %s", got)
		}
	})
	t.Run("item inline", func(t *testing.T) {
		h.sim.ClearFaults()
		h.sim.SetFault("*", sim.Fault{ItemInline: true})
		its := items(t, "/v1/check_transaction_by_md5_list", `["`+md5USD1+`","nope"]`)
		if string(its[0]["md5"]) != `"`+md5USD1+`"` || string(its[0]["hash"]) != `"`+paid+`"` || its[0]["amount"] == nil || its[0]["data"] != nil {
			t.Errorf("inline item %s", js(its[0]))
		}
		if len(its[1]) != 3 {
			t.Errorf("inline not-found item %s, want md5, status, message", js(its[1]))
		}
		its = items(t, "/v1/check_transaction_by_hash_list", `["`+paid+`"]`)
		if string(its[0]["hash"]) != `"`+paid+`"` || string(its[0]["status"]) != `"SUCCESS"` || len(its[0]) != 15 {
			t.Errorf("inline hash item %s", js(its[0]))
		}
	})
	t.Run("item under transaction", func(t *testing.T) {
		h.sim.ClearFaults()
		h.sim.SetFault("*", sim.Fault{ItemUnderTransaction: true})
		its := items(t, "/v1/check_transaction_by_md5_list", `["`+md5USD1+`"]`)
		var tx wireTx
		if err := json.Unmarshal(its[0]["transaction"], &tx); err != nil || tx.Hash != paid || its[0]["data"] != nil {
			t.Errorf("item %s", js(its[0]))
		}
	})
	t.Run("service failed", func(t *testing.T) {
		h.sim.ClearFaults()
		h.sim.SetFault("check_transaction_by_md5_list", sim.Fault{ServiceFailed: []string{md5USD1}})
		its := items(t, "/v1/check_transaction_by_md5_list", `["`+md5USD1+`","`+md5Hex(qrUSD100_50)+`"]`)
		if string(its[0]["status"]) != `"SERVICE_FAILED"` || string(its[0]["message"]) != `"Service unavailable"` || string(its[0]["data"]) != "null" {
			t.Errorf("item 0 %s", js(its[0]))
		}
		if string(its[1]["status"]) != `"SUCCESS"` {
			t.Errorf("item 1 %s", js(its[1]))
		}
		h.sim.SetFault("check_transaction_by_hash_list", sim.Fault{ServiceFailed: []string{"*"}})
		its = items(t, "/v1/check_transaction_by_hash_list", `["`+paid+`","x"]`)
		for i, it := range its {
			if string(it["status"]) != `"SERVICE_FAILED"` {
				t.Errorf("item %d %s", i, js(it))
			}
		}
	})
}

func jsFloat(ms int64) string { return js(ms) + ".0" }

// TestFaultSchedule checks Ratio, Count and which fault a call gets.
func TestFaultSchedule(t *testing.T) {
	h := newHarness(t, sim.Options{})
	body := `{"md5":"x"}`
	run := func(n int) string {
		var b strings.Builder
		for range n {
			switch h.post("/v1/check_transaction_by_md5", true, body).status {
			case 200:
				b.WriteByte('.')
			case 503:
				b.WriteByte('5')
			case 500:
				b.WriteByte('0')
			default:
				b.WriteByte('?')
			}
		}
		return b.String()
	}
	tests := []struct {
		name   string
		faults map[string]sim.Fault
		calls  int
		want   string
	}{
		{"all", map[string]sim.Fault{"*": {Status: 503}}, 3, "555"},
		{"half", map[string]sim.Fault{"*": {Status: 503, Ratio: 0.5}}, 6, ".5.5.5"},
		{"third", map[string]sim.Fault{"*": {Status: 503, Ratio: 1.0 / 3}}, 7, "..5..5."},
		{"tenth", map[string]sim.Fault{"*": {Status: 503, Ratio: 0.1}}, 20, ".........5.........5"},
		{"count", map[string]sim.Fault{"*": {Status: 503, Count: 2}}, 4, "55.."},
		{"count of ratio", map[string]sim.Fault{"*": {Status: 503, Count: 2, Ratio: 0.5}}, 8, ".5.5...."},
		{"endpoint beats star", map[string]sim.Fault{"*": {Status: 500}, "check_transaction_by_md5": {Status: 503}}, 2, "55"},
		{"star after endpoint's count", map[string]sim.Fault{"*": {Status: 500}, "check_transaction_by_md5": {Status: 503, Count: 1}}, 3, "500"},
		{"ratio misses, star unused", map[string]sim.Fault{"*": {Status: 500}, "check_transaction_by_md5": {Status: 503, Ratio: 0.5}}, 2, ".5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.sim.ClearFaults()
			for ep, f := range tt.faults {
				if err := h.sim.SetFault(ep, f); err != nil {
					t.Fatal(err)
				}
			}
			if got := run(tt.calls); got != tt.want {
				t.Errorf("calls %s, want %s", got, tt.want)
			}
		})
	}
	h.sim.ClearFaults()
	if got := run(2); got != ".." {
		t.Errorf("after ClearFaults %s", got)
	}
}

// TestLatency checks slow answers, and that a slow answer ends when the client gives up.
func TestLatency(t *testing.T) {
	h := newHarness(t, sim.Options{})
	h.sim.SetFault("*", sim.Fault{Latency: 20 * time.Millisecond})
	began := time.Now()
	if a := h.post("/v1/check_transaction_by_md5", true, `{"md5":"x"}`); a.status != 200 || a.env(t).code() != 1 {
		t.Fatalf("slow answer: HTTP %d %s", a.status, a.body)
	}
	if d := time.Since(began); d < 20*time.Millisecond {
		t.Errorf("answered after %v, want at least the latency", d)
	}

	h.sim.SetFault("*", sim.Fault{Latency: time.Hour})
	h.sim.ResetCalls()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/check_transaction_by_md5", strings.NewReader(`{"md5":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.sim.ServeHTTP(w, req)
	calls := h.sim.Calls()
	if len(calls) != 1 || calls[0].HTTPStatus != 0 || calls[0].ResponseCode != -1 {
		t.Errorf("abandoned call recorded as %+v", calls)
	}
}

// TestSetFaultRefuses checks that impossible faults and endpoints are refused.
func TestSetFaultRefuses(t *testing.T) {
	s := sim.New(sim.Options{})
	tests := []struct {
		name     string
		endpoint string
		f        sim.Fault
		ok       bool
	}{
		{"zero", "*", sim.Fault{}, true},
		{"path form", "/v1/check_account_exist", sim.Fault{Status: 500}, true},
		{"unknown endpoint", "check_transaction_by_md6", sim.Fault{}, false},
		{"status 200", "*", sim.Fault{Status: 200}, false},
		{"status 600", "*", sim.Fault{Status: 600}, false},
		{"ratio above 1", "*", sim.Fault{Ratio: 1.5}, false},
		{"negative ratio", "*", sim.Fault{Ratio: -0.1}, false},
		{"negative count", "*", sim.Fault{Count: -1}, false},
		{"negative latency", "*", sim.Fault{Latency: -time.Second}, false},
		{"unknown errorCode", "*", sim.Fault{ErrorCode: 13}, false},
		{"two placements", "*", sim.Fault{ItemInline: true, ItemUnderTransaction: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetFault(tt.endpoint, tt.f); (err == nil) != tt.ok {
				t.Errorf("SetFault: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
