package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// toolSim is a simulator over httptest with a paid, an unpaid and a failed
// QR, and the environment the tool commands read.
type toolSim struct {
	sim                  *sim.Server
	vars                 map[string]string
	paid, unpaid, failed khqr.QR
	hash                 string
}

const toolEmail = "merchant@shop.kh"

var toolStart = time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)

func newToolSim(t *testing.T) *toolSim {
	t.Helper()
	var mu sync.Mutex
	now := toolStart
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := &toolSim{sim: sim.New(sim.Options{Clock: clock, Accounts: []string{"dave@devb"}})}
	srv := httptest.NewServer(ts.sim)
	t.Cleanup(srv.Close)
	qr := func(amount int64, cur khqr.Currency, bill string) khqr.QR {
		q, err := khqr.Encode(khqr.Info{AccountID: "shop@devb", MerchantName: "Shop", Currency: cur, Amount: amount,
			BillNumber: bill, ExpiresAt: toolStart.Add(10 * time.Minute)}, toolStart)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	ts.paid, ts.unpaid, ts.failed = qr(150, khqr.USD, "A"), qr(10000, khqr.KHR, "B"), qr(200, khqr.USD, "C")
	tx, err := ts.sim.PayQR(ts.paid.String, sim.Payment{Description: "coffee"})
	if err != nil {
		t.Fatal(err)
	}
	ts.hash = tx.Hash
	ts.sim.RegisterQR(ts.unpaid.String)
	ts.sim.Fail(ts.failed.MD5)
	ts.vars = map[string]string{
		"BAKONG_API_URL": srv.URL,
		"BAKONG_TOKEN":   ts.sim.IssueToken(toolEmail),
		"BAKONG_EMAIL":   toolEmail,
	}
	return ts
}

// runTool runs khqrbot with args in-process.
func runTool(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code := dispatch(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestCheckCommand(t *testing.T) {
	ts := newToolSim(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"md5 paid", []string{"check", "--md5", ts.paid.MD5}, 0, []string{"FOUND by md5", "1.50 USD", ts.hash, "coffee", "2026-01-10 08:00:00.000 UTC"}},
		{"md5 unpaid", []string{"check", "--md5", ts.unpaid.MD5}, 1, []string{"NOT FOUND by md5"}},
		{"md5 failed", []string{"check", "--md5", ts.failed.MD5}, 4, []string{"FAILED"}},
		{"hash", []string{"check", "--hash", ts.hash}, 0, []string{"FOUND by hash", "1.50 USD"}},
		{"short hash", []string{"check", "--short-hash", ts.hash[:8], "--amount", "1.5", "--currency", "usd"}, 0, []string{"FOUND by short hash"}},
		{"short hash wrong amount", []string{"check", "--short-hash", ts.hash[:8], "--amount", "1.51", "--currency", "USD"}, 1, []string{"NOT FOUND"}},
		{"flags after", []string{"check", "--md5", ts.paid.MD5, "-v"}, 0, []string{"FOUND"}},
		{"compare", []string{"check", "--compare", ts.paid.MD5}, 0, []string{"by md5", "by hash", "by short hash", "1.50 USD"}},
		{"compare unpaid", []string{"check", "--compare", ts.unpaid.MD5}, 1, []string{"NOT FOUND"}},
		{"external ref unknown", []string{"check", "--external-ref", "100FT1"}, 1, []string{"NOT FOUND by external ref"}},
		{"no mode", []string{"check"}, 2, nil},
		{"two modes", []string{"check", "--md5", ts.paid.MD5, "--hash", ts.hash}, 2, nil},
		{"amount without short hash", []string{"check", "--md5", ts.paid.MD5, "--amount", "1"}, 2, nil},
		{"short hash without currency", []string{"check", "--short-hash", "8465d722", "--amount", "1"}, 2, nil},
		{"too many decimals", []string{"check", "--short-hash", "8465d722", "--amount", "1.005", "--currency", "USD"}, 2, nil},
		{"bad md5", []string{"check", "--md5", "xyz"}, 2, []string{"want 32 hex digits"}},
		{"stray argument", []string{"check", "--md5", ts.paid.MD5, "extra"}, 2, nil},
		{"help", []string{"check", "-h"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, ts.vars, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
			if strings.Contains(out+errOut, ts.vars["BAKONG_TOKEN"]) {
				t.Error("output shows the token")
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name  string
		fault sim.Fault
		code  int
		want  string
	}{
		{"geo-blocked", sim.Fault{GeoBlock: true}, 3, "BAKONG_PROXY_URL"},
		{"unauthorized", sim.Fault{Status: 401}, 3, "khqrbot token status"},
		{"rate limited", sim.Fault{RetryAfter: 2 * time.Second}, 3, "try again in 2s"},
		{"outage", sim.Fault{Status: 503}, 3, "never means unpaid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newToolSim(t)
			ts.sim.SetFault("check_transaction_by_md5", tt.fault)
			code, out, errOut := runTool(t, ts.vars, "", "check", "--md5", ts.paid.MD5, "-v")
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if !strings.Contains(errOut, "bakong: check_transaction_by_md5 id=") {
				t.Errorf("-v printed no call: %s", errOut)
			}
			if strings.Contains(out+errOut, ts.vars["BAKONG_TOKEN"]) {
				t.Error("output shows the token")
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	ts := newToolSim(t)
	code, out, _ := runTool(t, ts.vars, "", "check", "--json", "--md5", ts.paid.MD5)
	var got outcomeJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if got.Outcome != "found" || got.Transaction.Amount != 150 || got.Transaction.AmountText != "1.50 USD" || got.Transaction.Hash != ts.hash {
		t.Fatalf("%+v", got)
	}
	ts.sim.SetFault("check_transaction_by_md5", sim.Fault{RetryAfter: 3 * time.Second})
	code, out, _ = runTool(t, ts.vars, "", "check", "--json", "--md5", ts.paid.MD5)
	got = outcomeJSON{}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 3 || got.Error == nil || got.Error.Kind != "rate_limited" || got.Error.RetryAfter != 3 {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	code, out, _ = runTool(t, ts.vars, "", "check", "--json", "--compare", ts.paid.MD5)
	var cmp struct {
		Answers []outcomeJSON
		Agree   bool
	}
	if err := json.Unmarshal([]byte(out), &cmp); err != nil || code != 3 || cmp.Agree {
		t.Fatalf("compare while rate limited: exit %d, %v: %s", code, err, out)
	}
	ts.sim.ClearFaults()
	code, out, _ = runTool(t, ts.vars, "", "check", "--json", "--compare", ts.paid.MD5)
	if err := json.Unmarshal([]byte(out), &cmp); err != nil || code != 0 || !cmp.Agree || len(cmp.Answers) != 3 {
		t.Fatalf("compare: exit %d, %v: %s", code, err, out)
	}
}

func TestToolFlagsOverrideEnv(t *testing.T) {
	ts := newToolSim(t)
	vars := map[string]string{"BAKONG_API_URL": "http://127.0.0.1:1", "BAKONG_TOKEN": "stale"}
	code, out, errOut := runTool(t, vars, "", "check", "--md5", ts.paid.MD5, "--bakong-api-url", ts.vars["BAKONG_API_URL"], "--bakong-token", ts.vars["BAKONG_TOKEN"])
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// Bad settings are reported all at once, each by name, secrets hidden.
	bad := map[string]string{"BAKONG_PROXY_URL": "socks9://bob:hunter2@x", "BAKONG_TOKEN": "two words"}
	code, _, errOut = runTool(t, bad, "", "check", "--md5", ts.paid.MD5, "--bakong-api-url", "ftp://x")
	for _, want := range []string{
		`--bakong-api-url (BAKONG_API_URL)="ftp://x": want an http:// or https:// URL with a host`,
		`BAKONG_TOKEN=(set): want the Open API token, without spaces`,
		`BAKONG_PROXY_URL="socks9://bob:xxxxx@x": want an http:// or https:// URL with a host`,
	} {
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("bad settings: exit %d, want 2 and %q:\n%s", code, want, errOut)
		}
	}
	if strings.Contains(errOut, "two words") || strings.Contains(errOut, "hunter2") {
		t.Errorf("bad settings: output shows a secret:\n%s", errOut)
	}
	_, _, help := runTool(t, map[string]string{"BAKONG_TOKEN": "secret-token-value"}, "", "check", "-h")
	if strings.Contains(help, "secret-token-value") || !strings.Contains(help, "Exit codes") {
		t.Fatalf("help: %s", help)
	}
}

func TestCheckCompareDisagree(t *testing.T) {
	const hash = "8465d722d7d5065f2886f0a474a4d34dc6a7855355b611836f7b6111228893e9"
	body := func(amount string) string {
		return `{"responseCode":0,"errorCode":null,"responseMessage":"ok","data":{"hash":"` + hash +
			`","fromAccountId":"a@devb","toAccountId":"b@devb","currency":"USD","amount":` + amount + `,"createdDateMs":1605774370608.0}}`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/check_transaction_by_md5":
			io.WriteString(w, body("1.0"))
		case "/v1/check_transaction_by_hash":
			io.WriteString(w, body(`"2.00"`))
		default:
			io.WriteString(w, `{"responseCode":1,"errorCode":1,"responseMessage":"Transaction could not be found.","data":null}`)
		}
	}))
	defer srv.Close()
	vars := map[string]string{"BAKONG_API_URL": srv.URL, "BAKONG_TOKEN": "t"}
	code, out, errOut := runTool(t, vars, "", "check", "--compare", strings.Repeat("a", 32))
	if code != exitDisagree || !strings.Contains(out, "<- differs") || !strings.Contains(out, "2.00 USD") || !strings.Contains(out, "not found") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for l := range strings.Lines(out) {
		if strings.HasSuffix(strings.TrimSuffix(l, "\n"), " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
}

// TestSimAndCheckTogether plays the README's shell session: khqrbot sim in
// the background, then qr encode, check, pay through /_sim/pay, check again.
func TestSimAndCheckTogether(t *testing.T) {
	vars, stop := startSim(t)
	defer stop()

	code, out, errOut := runTool(t, vars, "", "qr", "encode", "--account", "shop@devb", "--name", "Shop", "--currency", "USD", "--amount", "1.50", "--json")
	var q struct{ QR, MD5 string }
	if err := json.Unmarshal([]byte(out), &q); code != 0 || err != nil {
		t.Fatalf("qr encode: exit %d %v\n%s%s", code, err, out, errOut)
	}
	if code, out, _ := runTool(t, vars, "", "check", "--md5", q.MD5); code != exitNo {
		t.Fatalf("before paying: exit %d\n%s", code, out)
	}
	resp, err := http.Post(vars["BAKONG_API_URL"]+"/_sim/pay", "application/json", strings.NewReader(`{"qr":"`+q.QR+`"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pay: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, out, _ := runTool(t, vars, "", "check", "--md5", q.MD5); code != exitOK || !strings.Contains(out, "1.50 USD") {
		t.Fatalf("after paying: exit %d\n%s", code, out)
	}
	if code, out, _ := runTool(t, vars, "", "check", "--compare", q.MD5); code != exitOK {
		t.Fatalf("compare: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"token", "status"}, {"account", "check", "shop@devb"}, {"deeplink", q.QR}, {"token", "renew"}} {
		if code, out, errOut := runTool(t, vars, "", args...); code != exitOK {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}
