package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/storage"
)

// lockedBuffer is an io.Writer for logs written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLong bounds a wait for the bot in tests. It only catches a hang: a
// healthy run on a loaded machine (-race, packages tested side by side on
// two shared cores) must never reach it, so it is far above what a step takes.
const waitLong = time.Minute

// startRun runs `khqrbot run` in-process with vars as its environment and
// returns a function that stops it (as SIGTERM does) and returns its exit code.
func startRun(t *testing.T, vars map[string]string) (stop func() int, logs *lockedBuffer) {
	t.Helper()
	logs = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{stdin: strings.NewReader(""), stdout: logs, stderr: logs, getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- runBot(ctx, e, nil) }()
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("khqrbot run did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return stop, logs
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitPhoto waits for the bot's n-th photo in chat.
func waitPhoto(t *testing.T, tg *telegramtest.Server, chat int64, n int) telegramtest.Message {
	t.Helper()
	var m telegramtest.Message
	ok := tg.WaitFor(waitLong, func() bool {
		k := 0
		for _, x := range tg.Messages(chat) {
			if x.FromBot && x.PhotoFileID != "" {
				if k++; k == n {
					m = x
					return true
				}
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no photo %d in chat %d", n, chat)
	}
	return m
}

func waitBotText(t *testing.T, tg *telegramtest.Server, chat int64, s string) {
	t.Helper()
	ok := tg.WaitFor(waitLong, func() bool {
		for _, x := range tg.Messages(chat) {
			if x.FromBot && strings.Contains(x.Text, s) {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no bot message with %q in chat %d: %+v", s, chat, tg.Messages(chat))
	}
}

func waitCaption(t *testing.T, tg *telegramtest.Server, chat int64, id int, s string) telegramtest.Message {
	t.Helper()
	var m telegramtest.Message
	if !tg.WaitFor(waitLong, func() bool { m, _ = tg.Message(chat, id); return strings.Contains(m.Caption, s) }) {
		t.Fatalf("message %d never showed %q; it shows %q", id, s, m.Caption)
	}
	return m
}

// TestRunSandbox: with only a Telegram token, `khqrbot run` serves the whole
// flow on its built-in simulator, answers /healthz, and stops cleanly.
func TestRunSandbox(t *testing.T) {
	tg := telegramtest.New(t)
	addr := freeAddr(t)
	stop, logs := startRun(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(),
		"TELEGRAM_API_URL":   tg.URL(),
		"DATABASE_URL":       filepath.Join(t.TempDir(), "bot.db"),
		"POLL_INTERVAL":      "1s",
		"LISTEN_ADDR":        addr,
	})
	const user = 4242
	tg.SendText(user, user, "/start")
	waitBotText(t, tg, user, "Your Telegram id is 4242")
	tg.SendText(user, user, "/pay 5")
	m := waitPhoto(t, tg, user, 1)
	if !strings.Contains(m.Caption, "SANDBOX") {
		t.Errorf("caption %q", m.Caption)
	}
	var sim string
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, "Simulate") {
			sim = b.CallbackData
		}
	}
	if sim == "" {
		t.Fatalf("no Simulate button: %+v", m.Buttons())
	}
	tg.PressButton(user, user, m.ID, sim)
	if paid := waitCaption(t, tg, user, m.ID, "Paid"); paid.Keyboard != nil {
		t.Errorf("paid message keeps %+v", paid.Buttons())
	}

	var st map[string]any
	var code int
	health := func() bool { // true once the reconciler's first cycle has ended
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		st, code = nil, resp.StatusCode
		json.NewDecoder(resp.Body).Decode(&st)
		_, ok := st["reconciler_last_tick_age_seconds"]
		return ok
	}
	for deadline := time.Now().Add(10 * time.Second); !health(); time.Sleep(10 * time.Millisecond) { // no signal to wait on
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never reported the reconciler's last tick: %d %v", code, st)
		}
	}
	if age, ok := st["reconciler_last_tick_age_seconds"].(float64); !ok || age < 0 || age > 10 {
		t.Errorf("/healthz last tick age %v, want 0 to 10 s with POLL_INTERVAL 1s", st["reconciler_last_tick_age_seconds"])
	}
	if code != 200 || st["database"] != "ok" || st["sandbox"] != true {
		t.Errorf("/healthz %d %v", code, st)
	}
	if v, ok := sample(scrapeMetrics(t, "http://"+addr+"/metrics"), "khqrbot_invoices_settled_total", "currency", "USD", "source", "check"); !ok || v != 1 { // Simulate payment checks at once
		t.Errorf("/metrics on LISTEN_ADDR: settled %v (present %v), want 1", v, ok)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if strings.Contains(logs.String(), tg.Token()) || strings.Contains(logs.String(), "TEST-TOKEN") {
		t.Error("the bot token reached the logs")
	}
}

// TestRunExternalSimulator: `khqrbot run` against any Open API-compatible
// server, given by BAKONG_API_URL and BAKONG_TOKEN alone. With
// DEEPLINK_ICON_URL, its deeplinks carry sourceInfo that leads back to the
// bot's chat.
func TestRunExternalSimulator(t *testing.T) {
	tg := telegramtest.New(t)
	s := sim.New(sim.Options{Accounts: []string{"shop@aclb"}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	token := s.IssueToken("shop@example.com")
	stop, logs := startRun(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(),
		"TELEGRAM_API_URL":   tg.URL(),
		"BAKONG_API_URL":     srv.URL,
		"BAKONG_TOKEN":       token,
		"BAKONG_ACCOUNT_ID":  "shop@aclb",
		"MERCHANT_NAME":      "Sokha Coffee",
		"DEEPLINK_ICON_URL":  "https://sokha.example/icon.png",
		"ADMIN_IDS":          "100",
		"DATABASE_URL":       filepath.Join(t.TempDir(), "bot.db"),
		"POLL_INTERVAL":      "1s",
	})
	tg.SendText(300, 300, "/pay 5")
	waitBotText(t, tg, 300, "only this shop's admins")
	tg.SendText(100, 100, "/pay 10000 KHR noodles")
	m := waitPhoto(t, tg, 100, 1)
	if strings.Contains(m.Caption, "SANDBOX") || strings.Contains(m.Caption, "Simulate") {
		t.Errorf("live QR marked as sandbox: %q", m.Caption)
	}
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, "Simulate") {
			t.Errorf("live QR offers %q", b.Text)
		}
	}
	var payload string
	for _, c := range s.Calls() {
		if c.Endpoint == "generate_deeplink_by_qr" {
			var body struct {
				QR         string
				SourceInfo *bakong.SourceInfo
			}
			if err := json.Unmarshal([]byte(c.Body), &body); err != nil {
				t.Fatalf("deeplink request %q: %v", c.Body, err)
			}
			want := bakong.SourceInfo{AppIconURL: "https://sokha.example/icon.png", AppName: "Sokha Coffee", AppDeepLinkCallback: "https://t.me/fake_bot"}
			if body.SourceInfo == nil || *body.SourceInfo != want || c.HTTPStatus != http.StatusOK || c.ResponseCode != 0 {
				t.Errorf("deeplink request %s answered %d/%d; want sourceInfo %+v accepted", c.Body, c.HTTPStatus, c.ResponseCode, want)
			}
			payload = body.QR
		}
	}
	if payload == "" {
		t.Fatal("the bot never asked the simulator for a deeplink")
	}
	if !strings.HasPrefix(button(m, "Pay with Bakong").URL, "https://") {
		t.Errorf("no deeplink button: %+v", m.Buttons())
	}
	if _, err := s.PayQR(payload, sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	waitCaption(t, tg, 100, m.ID, "Paid")
	tg.SendText(100, 100, "/token")
	waitBotText(t, tg, 100, "expires on")
	if code := stop(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the Bakong token reached the logs")
	}
}

// TestSourceInfo: sourceInfo goes with deeplinks only when all of it is
// known; the API refuses a partial one.
func TestSourceInfo(t *testing.T) {
	cfg := &config{MerchantName: "Sokha Coffee", DeeplinkIconURL: "https://sokha.example/icon.png"}
	noIcon := &config{MerchantName: "Sokha Coffee"}
	tests := []struct {
		name     string
		cfg      *config
		username string
		want     *bakong.SourceInfo
	}{
		{"all known", cfg, "sokha_bot", &bakong.SourceInfo{AppIconURL: "https://sokha.example/icon.png", AppName: "Sokha Coffee", AppDeepLinkCallback: "https://t.me/sokha_bot"}},
		{"no icon", noIcon, "sokha_bot", nil},
		{"no username", cfg, "", nil},
	}
	for _, tt := range tests {
		got := sourceInfo(tt.cfg, tt.username)
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
		if got != nil {
			if err := got.Validate(); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	}
}

// button returns the button of m whose text contains s.
func button(m telegramtest.Message, s string) telegramtest.Button {
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, s) {
			return b
		}
	}
	return telegramtest.Button{}
}

func TestRunConfigError(t *testing.T) {
	code, _, errOut := runCmd(t, map[string]string{"TELEGRAM_BOT_TOKEN": ""}, "run")
	if code != 2 || !strings.Contains(errOut, "TELEGRAM_BOT_TOKEN") {
		t.Errorf("exit %d, stderr %q; want 2 naming TELEGRAM_BOT_TOKEN", code, errOut)
	}
}

// TestLiveRefusesSandboxDatabase: a database the bot ran on in sandbox
// mode records it; live mode then refuses to start on it, saying what to
// do, until `khqrbot clear-sandbox --yes` deletes the sandbox data. The
// simulator-paid invoice then counts nowhere.
func TestLiveRefusesSandboxDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	tg := telegramtest.New(t)
	stop, _ := startRun(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": db, "POLL_INTERVAL": "1s",
	})
	const user = 4242
	tg.SendText(user, user, "/pay 50")
	m := waitPhoto(t, tg, user, 1)
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, "Simulate") {
			tg.PressButton(user, user, m.ID, b.CallbackData)
		}
	}
	waitCaption(t, tg, user, m.ID, "Paid")
	if code := stop(); code != 0 {
		t.Fatalf("sandbox run exited %d", code)
	}

	s := sim.New(sim.Options{Accounts: []string{"shop@aclb"}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	live := map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": db, "POLL_INTERVAL": "1s",
		"BAKONG_API_URL": srv.URL, "BAKONG_TOKEN": s.IssueToken("shop@example.com"), "BAKONG_ACCOUNT_ID": "shop@aclb",
		"MERCHANT_NAME": "Sokha Coffee", "ADMIN_IDS": "100",
	}
	var out lockedBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(k string) string { return live[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if code := runBot(ctx, e, nil); code != exitError {
		t.Fatalf("live run on a sandbox database exited %d, want %d:\n%s", code, exitError, out.String())
	}
	for _, want := range []string{"holds sandbox data", "DATABASE_URL", "khqrbot clear-sandbox --yes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("refusal lacks %q:\n%s", want, out.String())
		}
	}

	out = lockedBuffer{}
	if code := dispatch(ctx, e, []string{"clear-sandbox"}); code != exitUsage {
		t.Errorf("clear-sandbox without --yes exited %d, want %d", code, exitUsage)
	}
	if code := dispatch(ctx, e, []string{"clear-sandbox", "--yes"}); code != exitOK || !strings.Contains(out.String(), "Deleted 1 sandbox invoices") {
		t.Fatalf("clear-sandbox exited %d:\n%s", code, out.String())
	}
	startRun(t, live)
	tg.SendText(100, 100, "/paid")
	waitBotText(t, tg, 100, "Nothing was paid")
	tg.SendText(100, 100, "/pay 10000 KHR noodles")
	if m := waitPhoto(t, tg, 100, 1); strings.Contains(m.Caption, "SANDBOX") {
		t.Errorf("live QR %q", m.Caption)
	}
}

// TestRenewLock: the token's renewal lease is the service's lease: one
// replica holds it at a time, and releasing it lets another take it at once.
func TestRenewLock(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc, err := payments.NewService(store, &bakong.Deeplinker{}, nil, payments.Config{Merchant: payments.Merchant{AccountID: "shop@aclb", Name: "Shop"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := renewLock{leases: svc, replica: "a"}, renewLock{leases: svc, replica: "b"}
	unlock, ok, err := a.TryLockRenewal(ctx)
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok, err := b.TryLockRenewal(ctx); err != nil || ok {
		t.Fatalf("second replica got the held lease: %v %v", ok, err)
	}
	if holder, err := svc.LeaseHolder(ctx, payments.TokenLease); holder != "a" || err != nil {
		t.Fatalf("lease %s held by %q (%v), want a", payments.TokenLease, holder, err)
	}
	unlock()
	if _, ok, err := b.TryLockRenewal(ctx); err != nil || !ok {
		t.Fatalf("lock after release: %v %v", ok, err)
	}
}

// TestRunPortInUse: a LISTEN_ADDR or METRICS_ADDR in use stops `khqrbot
// run` before it does anything else: no database is created, and the
// error names the setting.
func TestRunPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tg := telegramtest.New(t)
	for _, name := range []string{"LISTEN_ADDR", "METRICS_ADDR"} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "bot.db")
			vars := map[string]string{
				"TELEGRAM_BOT_TOKEN": tg.Token(),
				"TELEGRAM_API_URL":   tg.URL(),
				"DATABASE_URL":       db,
				name:                 busy.Addr().String(),
			}
			if name == "METRICS_ADDR" {
				vars["LISTEN_ADDR"] = "127.0.0.1:0"
			}
			stop, logs := startRun(t, vars)
			if code := stop(); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if want := "(" + name + ")"; !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "address already in use") {
				t.Errorf("logs do not say that %s is in use:\n%s", name, logs)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("the database was created (stat: %v)", err)
			}
		})
	}
}
