package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/botapi"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

var (
	merchant = Person{ID: 11, Name: "Dara", Role: "Merchant", Lang: "en"}
	customer = Person{ID: 22, Name: "Sokha", Role: "Customer", Lang: "km"}
)

type fixture struct {
	api  *botapi.Server
	bank *sim.Server
	url  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	api, err := botapi.New(botapi.Options{Bot: botapi.Bot{Token: "1:demo", ID: 1, Username: "demo_bot", FirstName: "Demo"}})
	if err != nil {
		t.Fatal(err)
	}
	bank := sim.New(sim.Options{})
	h, err := New(Options{API: api, Bank: bank, Merchant: merchant, Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() { api.Close(); ts.CloseClientConnections(); ts.Close() })
	return &fixture{api: api, bank: bank, url: ts.URL}
}

// post sends body as JSON and returns the status and the decoded answer.
func (f *fixture) post(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestNewRefusesBadOptions(t *testing.T) {
	api, _ := botapi.New(botapi.Options{Bot: botapi.Bot{Token: "1:demo", ID: 1, Username: "demo_bot", FirstName: "Demo"}})
	defer api.Close()
	bank := sim.New(sim.Options{})
	for name, o := range map[string]Options{
		"no api":        {Bank: bank, Merchant: merchant, Customer: customer},
		"no bank":       {API: api, Merchant: merchant, Customer: customer},
		"same people":   {API: api, Bank: bank, Merchant: merchant, Customer: merchant},
		"bad language":  {API: api, Bank: bank, Merchant: merchant, Customer: Person{ID: 3, Name: "X", Role: "Customer", Lang: "fr"}},
		"no user id":    {API: api, Bank: bank, Merchant: Person{Name: "X", Role: "Merchant", Lang: "en"}, Customer: customer},
		"no role named": {API: api, Bank: bank, Merchant: Person{ID: 4, Name: "X", Lang: "en"}, Customer: customer},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPageIsSelfContained: the page loads nothing from elsewhere, and says
// so to the browser.
func TestPageIsSelfContained(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `aria-label="Message"`) {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//`)
	err = fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s loads %q from elsewhere", path, m)
		}
		resp, err := http.Get(f.url + "/" + path)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET /%s = %d", path, resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSendChecksItsInput(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		body any
		code int
	}{
		{"unknown user", sendRequest{User: 99, Text: "/start"}, 400},
		{"empty text", sendRequest{User: merchant.ID, Text: "  "}, 400},
		{"too long", sendRequest{User: merchant.ID, Text: strings.Repeat("ក", 4097)}, 400},
		{"unknown field", map[string]any{"user": merchant.ID, "text": "x", "chat": 1}, 400},
		{"ok", sendRequest{User: customer.ID, Text: "/start inv_abc"}, 200},
	} {
		if code, out := f.post(t, "/demo/send", tc.body); code != tc.code || (code != 200 && out["error"] == "") {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.code)
		}
	}
	resp, err := http.Post(f.url+"/demo/send", "application/x-www-form-urlencoded", strings.NewReader("user=11&text=hi"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a form post: %d, want 415 (only JSON, so no other site can post)", resp.StatusCode)
	}
	msgs := f.api.Messages(customer.ID)
	if len(msgs) != 1 || msgs[0].Text != "/start inv_abc" {
		t.Fatalf("customer chat %+v", msgs)
	}
}

// TestEventsStreamEveryChange: the first event is the state; a message
// sent after it arrives as the next one.
func TestEventsStreamEveryChange(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.url + "/demo/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan snapshot)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var s snapshot
				if json.Unmarshal([]byte(data), &s) == nil {
					events <- s
				}
			}
		}
		close(events)
	}()
	next := func() snapshot {
		t.Helper()
		select {
		case s, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			return s
		case <-time.After(10 * time.Second): // a hang detector
			t.Fatal("no event")
		}
		return snapshot{}
	}
	first := next()
	if first.Bot != "demo_bot" || len(first.People) != 2 || len(first.Chats["11"]) != 0 {
		t.Fatalf("first event %+v", first)
	}
	f.api.SendText(merchant.ID, merchant.ID, "/pay 5")
	s := next()
	if got := s.Chats["11"]; len(got) != 1 || got[0].Text != "/pay 5" || got[0].FromBot {
		t.Errorf("second event %+v", s.Chats)
	}
}

// TestBankApp: a Pay with Bakong link opens the QR's bill; the payer pays a
// wrong amount once, and a second payment of that QR is refused.
func TestBankApp(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	qr, err := khqr.Encode(khqr.Info{AccountID: "shop@bank", MerchantName: "Shop", Currency: khqr.USD, Amount: 500, ExpiresAt: now.Add(5 * time.Minute)}, now)
	if err != nil {
		t.Fatal(err)
	}
	tok := f.bank.IssueToken("shop@example.com")
	bankSrv := httptest.NewServer(f.bank)
	defer bankSrv.Close()
	req, _ := http.NewRequest(http.MethodPost, bankSrv.URL+"/v1/generate_deeplink_by_qr", strings.NewReader(`{"qr":"`+qr.String+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var dl struct {
		Data struct {
			ShortLink string `json:"shortLink"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&dl)
	resp.Body.Close()
	link := dl.Data.ShortLink
	if link == "" {
		t.Fatal("no deeplink from the simulator")
	}

	resp, err = http.Get(f.url + "/demo/bank?link=" + link)
	if err != nil {
		t.Fatal(err)
	}
	var b bill
	_ = json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if b.Amount != "5.00" || b.Currency != "USD" || b.Account != "shop@bank" || b.Wrong != "4.50" || b.ExpiresAt == 0 {
		t.Errorf("bill %+v", b)
	}
	if code, _ := f.post(t, "/demo/bank/pay", payRequest{Link: "https://bakongsim.page.link/nope", How: payExact}); code != 404 {
		t.Errorf("unknown link: %d", code)
	}
	if code, _ := f.post(t, "/demo/bank/pay", payRequest{Link: link, How: "twice"}); code != 400 {
		t.Errorf("unknown way to pay: %d", code)
	}
	code, out := f.post(t, "/demo/bank/pay", payRequest{Link: link, How: payWrong})
	if code != 200 || out["amount"] != "4.50" || out["currency"] != "USD" || len(out["hash"].(string)) != 8 {
		t.Errorf("wrong amount: %d %v", code, out)
	}
	if code, out := f.post(t, "/demo/bank/pay", payRequest{Link: link, How: payExact}); code != 409 || !strings.Contains(out["error"].(string), "already paid") {
		t.Errorf("second payment: %d %v", code, out)
	}
}

func TestWrongAmount(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{{500, 450}, {2000, 1800}, {10000, 9000}, {1, 2}, {5, 4}} {
		if got := wrongAmount(tc.in); got != tc.want {
			t.Errorf("wrongAmount(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
