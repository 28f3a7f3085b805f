package bakong_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

const (
	email    = "merchant@shop.kh"
	receiver = "shop@devb"
)

var (
	ctx   = context.Background()
	start = time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// world is a simulator over httptest and a client with a TokenManager.
type world struct {
	sim   *sim.Server
	url   string
	clk   *clock
	c     *bakong.Client
	tm    *bakong.TokenManager
	calls []bakong.Call
	mu    sync.Mutex
}

func newWorld(t testing.TB, so sim.Options, co bakong.Options) *world {
	t.Helper()
	w := &world{clk: &clock{t: start}}
	so.Clock = w.clk.now
	w.sim = sim.New(so)
	srv := httptest.NewServer(w.sim)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	co.BaseURL = srv.URL
	co.Observer = func(c bakong.Call) { w.mu.Lock(); w.calls = append(w.calls, c); w.mu.Unlock() }
	base, err := bakong.New(co)
	if err != nil {
		t.Fatal(err)
	}
	w.tm, err = bakong.NewTokenManager(ctx, bakong.TokenConfig{Token: w.sim.IssueToken(email), Email: email, Renewer: base, Clock: w.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	w.c = base.WithTokens(w.tm)
	return w
}

// qr encodes a dynamic KHQR of amount minor units, unique by bill number.
func (w *world) qr(t testing.TB, amount int64, cur khqr.Currency, bill string) khqr.QR {
	t.Helper()
	q, err := khqr.Encode(khqr.Info{AccountID: receiver, MerchantName: "Shop", Currency: cur, Amount: amount,
		BillNumber: bill, ExpiresAt: w.clk.now().Add(10 * time.Minute)}, w.clk.now())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (w *world) pay(t testing.TB, q khqr.QR, p sim.Payment) *bakong.Transaction {
	t.Helper()
	tx, err := w.sim.PayQR(q.String, p)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestSimChecks(t *testing.T) {
	w := newWorld(t, sim.Options{}, bakong.Options{})
	paid := w.qr(t, 150, khqr.USD, "INV-1")
	khr := w.qr(t, 10000, khqr.KHR, "INV-2")
	unpaid := w.qr(t, 500, khqr.USD, "INV-3")
	failed := w.qr(t, 700, khqr.USD, "INV-4")
	want := w.pay(t, paid, sim.Payment{InstructionRef: "00001234", Description: "coffee"})
	wantKHR := w.pay(t, khr, sim.Payment{})
	if _, err := w.sim.RegisterQR(unpaid.String); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.Fail(failed.MD5); err != nil {
		t.Fatal(err)
	}
	unknownHash := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		call func() (*bakong.Transaction, error)
		want *bakong.Transaction
		err  error
	}{
		{"md5", func() (*bakong.Transaction, error) { return w.c.CheckMD5(ctx, paid.MD5) }, want, nil},
		{"md5 KHR", func() (*bakong.Transaction, error) { return w.c.CheckMD5(ctx, khr.MD5) }, wantKHR, nil},
		{"hash", func() (*bakong.Transaction, error) { return w.c.CheckHash(ctx, want.Hash) }, want, nil},
		{"short hash", func() (*bakong.Transaction, error) { return w.c.CheckShortHash(ctx, want.ShortHash(), 150, "USD") }, want, nil},
		{"short hash KHR", func() (*bakong.Transaction, error) { return w.c.CheckShortHash(ctx, wantKHR.ShortHash(), 10000, "KHR") }, wantKHR, nil},
		{"instruction ref", func() (*bakong.Transaction, error) { return w.c.CheckInstructionRef(ctx, "00001234") }, want, nil},
		{"external ref", func() (*bakong.Transaction, error) { return w.c.CheckExternalRef(ctx, want.ExternalRef) }, want, nil},
		{"md5 unpaid", func() (*bakong.Transaction, error) { return w.c.CheckMD5(ctx, unpaid.MD5) }, nil, bakong.ErrNotFound},
		{"md5 never seen", func() (*bakong.Transaction, error) { return w.c.CheckMD5(ctx, strings.Repeat("0", 32)) }, nil, bakong.ErrNotFound},
		{"md5 failed", func() (*bakong.Transaction, error) { return w.c.CheckMD5(ctx, failed.MD5) }, nil, bakong.ErrFailed},
		{"hash unknown", func() (*bakong.Transaction, error) { return w.c.CheckHash(ctx, unknownHash) }, nil, bakong.ErrNotFound},
		{"short hash wrong amount", func() (*bakong.Transaction, error) { return w.c.CheckShortHash(ctx, want.ShortHash(), 151, "USD") }, nil, bakong.ErrNotFound},
		{"short hash wrong currency", func() (*bakong.Transaction, error) { return w.c.CheckShortHash(ctx, want.ShortHash(), 150, "KHR") }, nil, bakong.ErrNotFound},
		{"instruction ref unknown", func() (*bakong.Transaction, error) { return w.c.CheckInstructionRef(ctx, "nope") }, nil, bakong.ErrNotFound},
		{"external ref unknown", func() (*bakong.Transaction, error) { return w.c.CheckExternalRef(ctx, "100FT0") }, nil, bakong.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tt.want {
				t.Fatalf("got  %+v\nwant %+v", *got, *tt.want)
			}
		})
	}
}

func TestSimLists(t *testing.T) {
	shapes := []struct {
		name  string
		fault sim.Fault
	}{
		{"under data", sim.Fault{}},
		{"under transaction", sim.Fault{ItemUnderTransaction: true}},
		{"inline", sim.Fault{ItemInline: true}},
		{"string amounts, float timestamps", sim.Fault{AmountAsString: true, FloatTimestamps: true}},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			w := newWorld(t, sim.Options{}, bakong.Options{})
			paid, unpaid, failed, flaky := w.qr(t, 150, khqr.USD, "A"), w.qr(t, 2, khqr.USD, "B"), w.qr(t, 3, khqr.USD, "C"), w.qr(t, 4, khqr.USD, "D")
			static, err := khqr.Encode(khqr.Info{AccountID: receiver, MerchantName: "Shop", Currency: khqr.KHR}, start)
			if err != nil {
				t.Fatal(err)
			}
			tx := w.pay(t, paid, sim.Payment{})
			txFlaky := w.pay(t, flaky, sim.Payment{})
			w.sim.RegisterQR(unpaid.String)
			w.sim.RegisterQR(static.String)
			w.sim.Fail(failed.MD5)
			f := sh.fault
			f.ServiceFailed = []string{flaky.MD5, txFlaky.Hash}
			for _, ep := range []string{"check_transaction_by_md5_list", "check_transaction_by_hash_list"} {
				if err := w.sim.SetFault(ep, f); err != nil {
					t.Fatal(err)
				}
			}
			got, err := w.c.CheckMD5List(ctx, []string{paid.MD5, unpaid.MD5, static.MD5, failed.MD5, flaky.MD5})
			if err != nil {
				t.Fatal(err)
			}
			want := []bakong.ItemStatus{bakong.ItemSuccess, bakong.ItemNotFound, bakong.ItemStaticQR, bakong.ItemFailed, bakong.ItemServiceFailed}
			for i, r := range got {
				if r.Status != want[i] {
					t.Errorf("md5 item %d: %s %q, want %s", i, r.Status, r.Message, want[i])
				}
			}
			if got[0].Transaction == nil || *got[0].Transaction != *tx || got[0].Key != paid.MD5 {
				t.Errorf("md5 list transaction %+v, want %+v", got[0].Transaction, tx)
			}
			hashes, err := w.c.CheckHashList(ctx, []string{strings.Repeat("0", 64), txFlaky.Hash, tx.Hash})
			if err != nil {
				t.Fatal(err)
			}
			if hashes[0].Status != bakong.ItemNotFound || hashes[1].Status != bakong.ItemServiceFailed ||
				hashes[2].Status != bakong.ItemSuccess || *hashes[2].Transaction != *tx {
				t.Errorf("hash list %+v", hashes)
			}
		})
	}
}

func TestSimFaults(t *testing.T) {
	md5 := strings.Repeat("1", 32)
	tests := []struct {
		name     string
		endpoint string
		fault    sim.Fault
		call     func(*bakong.Client) error
		kind     Kind
		code     int
		retry    time.Duration
	}{
		{"401", "check_transaction_by_md5", sim.Fault{Status: 401}, checkMD5(md5), bakong.KindUnauthorized, 6, 0},
		{"geo 403 HTML", "check_transaction_by_md5", sim.Fault{GeoBlock: true}, checkMD5(md5), bakong.KindGeoBlocked, 0, 0},
		{"geo 403 on renew", "renew_token", sim.Fault{GeoBlock: true}, renew, bakong.KindGeoBlocked, 0, 0},
		{"429", "check_transaction_by_md5", sim.Fault{RetryAfter: 3 * time.Second}, checkMD5(md5), bakong.KindRateLimited, 0, 3 * time.Second},
		{"500", "check_transaction_by_hash", sim.Fault{Status: 500}, checkHash, bakong.KindUnavailable, 0, 0},
		{"502", "check_transaction_by_md5", sim.Fault{Status: 502}, checkMD5(md5), bakong.KindUnavailable, 0, 0},
		{"503", "check_transaction_by_md5_list", sim.Fault{Status: 503}, md5List(md5), bakong.KindUnavailable, 0, 0},
		{"504", "check_bakong_account", sim.Fault{Status: 504}, account, bakong.KindUnavailable, 0, 0},
		{"400", "check_transaction_by_md5", sim.Fault{Status: 400}, checkMD5(md5), bakong.KindAPI, 5, 0},
		{"errorCode 9", "check_transaction_by_md5", sim.Fault{ErrorCode: 9}, checkMD5(md5), bakong.KindUnavailable, 9, 0},
		{"deeplink errorCode 4", "generate_deeplink_by_qr", sim.Fault{ErrorCode: 4}, deeplink, bakong.KindAPI, 4, 0},
		{"md5 list refused", "check_transaction_by_md5_list", sim.Fault{ListRefused: true}, md5List(md5), bakong.KindListRefused, 0, 0},
		{"hash list refused", "check_transaction_by_hash_list", sim.Fault{ListRefused: true}, hashList, bakong.KindListRefused, 0, 0},
		{"slow answer", "check_transaction_by_md5", sim.Fault{Latency: time.Minute}, checkMD5(md5), bakong.KindUnavailable, 0, 0},
		{"slow list", "check_transaction_by_md5_list", sim.Fault{Latency: time.Minute}, md5List(md5), bakong.KindUnavailable, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var co bakong.Options // the default timeout: a loaded machine's slow answer is still an answer
			if tt.fault.Latency > 0 {
				co.Timeout = 100 * time.Millisecond // far below the fault's latency
			}
			w := newWorld(t, sim.Options{}, co)
			if err := w.sim.SetFault(tt.endpoint, tt.fault); err != nil {
				t.Fatal(err)
			}
			err := tt.call(w.c)
			var e *bakong.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.ErrorCode != tt.code || e.RetryAfter != tt.retry {
				t.Fatalf("err = %#v (%v), want kind %s code %d", err, err, tt.kind, tt.code)
			}
			if errors.Is(err, bakong.ErrNotFound) {
				t.Fatal("an error reads as not found")
			}
		})
	}
}

// Kind shortens the table above.
type Kind = bakong.Kind

func checkMD5(md5 string) func(*bakong.Client) error {
	return func(c *bakong.Client) error { _, err := c.CheckMD5(ctx, md5); return err }
}

func md5List(md5 string) func(*bakong.Client) error {
	return func(c *bakong.Client) error { _, err := c.CheckMD5List(ctx, []string{md5}); return err }
}

func checkHash(c *bakong.Client) error {
	_, err := c.CheckHash(ctx, strings.Repeat("2", 64))
	return err
}

func hashList(c *bakong.Client) error {
	_, err := c.CheckHashList(ctx, []string{strings.Repeat("2", 64)})
	return err
}

func renew(c *bakong.Client) error { _, err := c.RenewToken(ctx, email); return err }

func account(c *bakong.Client) error { _, err := c.CheckAccount(ctx, receiver); return err }

func deeplink(c *bakong.Client) error {
	_, err := c.Deeplink(ctx, "00020101021129180014jonhsmith@nbcq5204599953031165802KH5910Jonh Smith6010Phnom Penh6304856B")
	return err
}

func TestSimWireShapes(t *testing.T) {
	w := newWorld(t, sim.Options{}, bakong.Options{})
	q := w.qr(t, 1, khqr.USD, "cent")
	want := w.pay(t, q, sim.Payment{})
	for _, f := range []sim.Fault{{AmountAsString: true}, {FloatTimestamps: true}, {AmountAsString: true, FloatTimestamps: true}} {
		w.sim.SetFault("check_transaction_by_md5", f)
		got, err := w.c.CheckMD5(ctx, q.MD5)
		if err != nil || *got != *want {
			t.Fatalf("%+v: got %+v, %v; want %+v", f, got, err, want)
		}
	}
}

func TestSimTokenLifecycle(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		revoke  bool // someone else renews, revoking our token
		renews  int
		refused int
	}{
		{"fresh token", 0, false, 0, 0},
		{"eight days left", 82 * 24 * time.Hour, false, 0, 0},
		{"six days left: proactive", 84 * 24 * time.Hour, false, 1, 0},
		{"expired: renewed before the call", 91 * 24 * time.Hour, false, 1, 0},
		{"revoked: 401, renew, retry", 0, true, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, sim.Options{RenewInvalidatesOld: true}, bakong.Options{})
			q := w.qr(t, 150, khqr.USD, "x")
			w.pay(t, q, sim.Payment{})
			w.clk.add(tt.advance)
			if tt.revoke {
				if _, err := w.c.RenewToken(ctx, email); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.c.CheckMD5(ctx, q.MD5); err != nil {
				t.Fatal(err)
			}
			renews, refused := 0, 0
			for _, c := range w.sim.Calls() {
				if c.Endpoint == "renew_token" {
					renews++
				}
				if c.HTTPStatus == 401 {
					refused++
				}
			}
			if renews != tt.renews || refused != tt.refused {
				t.Fatalf("%d renewals, %d refusals; want %d, %d", renews, refused, tt.renews, tt.refused)
			}
			s := w.tm.Status()
			if tt.renews > 0 && (s.Source != "renewed" || s.DaysLeft != 90) {
				t.Fatalf("status %+v", s)
			}
		})
	}
}

func TestSimConcurrent401(t *testing.T) {
	w := newWorld(t, sim.Options{RenewInvalidatesOld: true}, bakong.Options{})
	q := w.qr(t, 150, khqr.USD, "x")
	w.pay(t, q, sim.Payment{})
	if _, err := w.c.RenewToken(ctx, email); err != nil { // revokes the manager's token
		t.Fatal(err)
	}
	w.sim.ResetCalls()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := w.c.CheckMD5(ctx, q.MD5); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	renews, refused := 0, 0
	for _, c := range w.sim.Calls() {
		if c.Endpoint == "renew_token" {
			renews++
		}
		if c.HTTPStatus == 401 {
			refused++
		}
	}
	if renews != 1 || refused == 0 {
		t.Fatalf("%d renewals after %d refusals, want 1", renews, refused)
	}
}

func TestSimTokenEndpoints(t *testing.T) {
	w := newWorld(t, sim.Options{}, bakong.Options{})
	const newEmail = "new@shop.kh"
	if err := w.c.RequestToken(ctx, newEmail, "Shop", "khqrbot"); err != nil {
		t.Fatal(err)
	}
	code, found := w.sim.LastCode(newEmail)
	if !found {
		t.Fatal("no code sent")
	}
	tok, err := w.c.VerifyCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if exp, err := bakong.DecodeExpiry(tok); err != nil || !exp.Equal(start.Add(90*24*time.Hour)) {
		t.Fatalf("exp %v, %v", exp, err)
	}
	if _, err := w.c.VerifyCode(ctx, strings.Repeat("Z", 20)); err == nil {
		t.Fatal("a wrong code was accepted")
	}
	if tok2, err := w.c.RenewToken(ctx, newEmail); err != nil || tok2 == tok {
		t.Fatalf("renew: %v", err)
	}
	var e *bakong.Error
	if _, err := w.c.RenewToken(ctx, "who@shop.kh"); !errors.As(err, &e) || e.Kind != bakong.KindAPI || e.ErrorCode != 10 {
		t.Fatalf("renew unknown email: %v", err)
	}
}

func TestSimAccountAndDeeplink(t *testing.T) {
	si := &bakong.SourceInfo{AppIconURL: "https://github.com/khqrbot.png", AppName: "khqrbot", AppDeepLinkCallback: "https://t.me/khqrbot"}
	w := newWorld(t, sim.Options{Accounts: []string{"dave@devb"}}, bakong.Options{SourceInfo: si})
	for id, want := range map[string]bool{"dave@devb": true, "dope@devb": false} {
		if got, err := w.c.CheckAccount(ctx, id); got != want || err != nil {
			t.Errorf("account %s: %v, %v", id, got, err)
		}
	}
	var e *bakong.Error
	if _, err := w.c.CheckAccount(ctx, "do pe@devb"); !errors.As(err, &e) || e.ErrorCode != 12 {
		t.Errorf("invalid account: %v", err)
	}
	q := w.qr(t, 150, khqr.USD, "x")
	l1, err := w.c.Deeplink(ctx, q.String)
	if err != nil {
		t.Fatal(err)
	}
	l2, _ := w.c.Deeplink(ctx, q.String)
	if l1 == l2 || !strings.HasPrefix(l1, "https://") {
		t.Fatalf("links %q %q", l1, l2)
	}
	if _, err := w.c.Deeplink(ctx, q.String[:len(q.String)-1]+"0"); !errors.As(err, &e) || e.ErrorCode != 5 {
		t.Fatalf("bad CRC: %v", err)
	}
	calls := w.sim.Calls()
	last := calls[len(calls)-1]
	for _, f := range []string{`"appIconUrl":"https://github.com/khqrbot.png"`, `"appName":"khqrbot"`, `"appDeepLinkCallback":"https://t.me/khqrbot"`} {
		if !strings.Contains(last.Body, f) {
			t.Errorf("deeplink body %s lacks %s", last.Body, f)
		}
	}
}

func TestSimRecordedHeaders(t *testing.T) {
	w := newWorld(t, sim.Options{Accounts: []string{"dave@devb"}}, bakong.Options{UserAgent: bakong.UserAgent("9.9")})
	w.c.CheckMD5(ctx, strings.Repeat("1", 32))
	w.c.CheckAccount(ctx, "dave@devb")
	calls := w.sim.Calls()
	if len(calls) != 2 || len(w.calls) != 2 {
		t.Fatalf("%d sim calls, %d observed", len(calls), len(w.calls))
	}
	for i, c := range calls {
		if c.UserAgent != "khqrbot/9.9 (+https://github.com/khqrbot/khqrbot)" || c.RequestID != w.calls[i].RequestID {
			t.Errorf("call %d: %+v vs %+v", i, c, w.calls[i])
		}
	}
	if !calls[0].Authorized || calls[1].Authorized {
		t.Error("the token goes on check_* only")
	}
	if o := w.calls[0]; o.HTTPStatus != 200 || o.ResponseCode != 1 || o.ErrorCode != 1 || o.Err != "" {
		t.Errorf("observed %+v", o)
	}
}

func BenchmarkCheckMD5List(b *testing.B) {
	w := newWorld(b, sim.Options{}, bakong.Options{})
	md5s := make([]string, bakong.MaxList)
	for i := range md5s {
		q := w.qr(b, int64(100+i), khqr.USD, fmt.Sprintf("INV-%d", i))
		if i%2 == 0 {
			w.pay(b, q, sim.Payment{})
		} else {
			w.sim.RegisterQR(q.String)
		}
		md5s[i] = q.MD5
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.c.CheckMD5List(ctx, md5s); err != nil {
			b.Fatal(err)
		}
	}
}
