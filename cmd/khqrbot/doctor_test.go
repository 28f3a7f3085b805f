package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/storage"
)

// jwt returns an unsigned-looking JWT whose exp is exp.
func jwt(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc([]byte(fmt.Sprintf(`{"data":{"id":"x"},"iat":1,"exp":%d}`, exp.Unix()))) + ".c2lnbmF0dXJl"
}

// bakongStub answers check_transaction_by_md5 like Bakong does to a caller
// without a token: 401 JSON from inside Cambodia, 403 HTML from outside.
func bakongStub(t *testing.T, status int) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	calls := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*calls++
		mu.Unlock()
		if r.URL.Path != "/v1/check_transaction_by_md5" || r.Method != http.MethodPost || r.Header.Get("Authorization") != "" {
			t.Errorf("probe %s %s auth %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		switch status {
		case http.StatusForbidden:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprint(w, "<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center></body></html>")
		case http.StatusUnauthorized:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"responseCode":1,"responseMessage":"Unauthorized, not yet requested for token or code invalid","errorCode":6,"data":null}`)
		default:
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

func runCmd(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	e := &env{stdout: &out, stderr: &errOut, getenv: mapenv(vars), stdin: strings.NewReader("")}
	code := dispatch(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// line returns the report line of check name.
func line(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 6 && strings.HasPrefix(strings.TrimSpace(l[6:]), name+" ") {
			return l
		}
	}
	return ""
}

func TestDoctor(t *testing.T) {
	tg := telegramtest.New(t)
	ok401, _ := bakongStub(t, http.StatusUnauthorized)
	geo403, _ := bakongStub(t, http.StatusForbidden)
	down503, _ := bakongStub(t, http.StatusServiceUnavailable)
	auth407, _ := bakongStub(t, http.StatusProxyAuthRequired)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	base := func(kv ...string) map[string]string {
		env := map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(),
			"TELEGRAM_API_URL":   tg.URL(),
			"DATABASE_URL":       filepath.Join(t.TempDir(), "k.db"),
		}
		return with(env, kv...)
	}
	liveEnv := func(bakongURL string, kv ...string) map[string]string {
		env := base("BAKONG_TOKEN", jwt(time.Now().Add(60*24*time.Hour)), "BAKONG_API_URL", bakongURL,
			"BAKONG_ACCOUNT_ID", "shop@aclb", "MERCHANT_NAME", "Shop", "ADMIN_IDS", "1", "BAKONG_EMAIL", "a@example.com")
		return with(env, kv...)
	}
	type want map[string]string // check name -> "STATUS substring"
	for _, tc := range []struct {
		name string
		env  map[string]string
		code int
		want want
	}{
		{"sandbox", base(), 0, want{
			"configuration":    "OK sandbox mode",
			"database":         "OK written and read back",
			"telegram":         "OK @fake_bot (id 1)",
			"bakong token":     "SKIP sandbox",
			"bakong reachable": "SKIP sandbox",
		}},
		{"live reachable", liveEnv(ok401.URL), 0, want{
			"configuration":    "OK live: payments to shop@aclb",
			"bakong token":     "OK in 59 days",
			"bakong reachable": "OK HTTP 401",
		}},
		{"geo blocked", liveEnv(geo403.URL), 1, want{
			"bakong reachable": "FAIL set BAKONG_PROXY_URL to an HTTP proxy there",
		}},
		{"bakong down", liveEnv(down503.URL), 1, want{
			"bakong reachable": "FAIL HTTP 503",
		}},
		{"proxy wants credentials", liveEnv(auth407.URL), 1, want{
			"bakong reachable": "FAIL the proxy asks for credentials (HTTP 407)",
		}},
		{"bakong unreachable", liveEnv(gone.URL), 1, want{
			"bakong reachable": "FAIL cannot reach Bakong",
		}},
		{"token expiring", liveEnv(ok401.URL, "BAKONG_TOKEN", jwt(time.Now().Add(50*time.Hour))), 0, want{
			"bakong token": "OK renew it with 'khqrbot token renew'",
		}},
		{"token expired", liveEnv(ok401.URL, "BAKONG_TOKEN", jwt(time.Now().Add(-time.Hour)), "BAKONG_EMAIL", ""), 1, want{
			"bakong token": "FAIL set BAKONG_EMAIL",
		}},
		{"token not a jwt", liveEnv(ok401.URL, "BAKONG_TOKEN", "opaque"), 1, want{
			"bakong token": "FAIL not a JWT",
		}},
		{"wrong telegram token", base("TELEGRAM_BOT_TOKEN", "999:wrong-token"), 1, want{
			"telegram": "FAIL refused the token (HTTP 401 Unauthorized)",
		}},
		{"telegram unreachable", base("TELEGRAM_API_URL", gone.URL), 1, want{
			"telegram": "FAIL cannot reach Telegram",
		}},
		{"bad configuration", base("TELEGRAM_BOT_TOKEN", "", "QR_TTL", "1h", "DATABASE_URL", "mysql://db"), 1, want{
			"configuration": "FAIL 3 problem(s)",
			"database":      "SKIP DATABASE_URL is invalid",
			"telegram":      "SKIP TELEGRAM_BOT_TOKEN is not set",
		}},
		{"database not writable", base("DATABASE_URL", filepath.Join(t.TempDir(), "missing", "dir", "k.db")), 1, want{
			"database": "FAIL cannot open",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.env, "doctor", "--timeout", "5s")
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for name, w := range tc.want {
				status, sub, _ := strings.Cut(w, " ")
				l := line(out, name)
				if !strings.HasPrefix(l, status+" ") || !strings.Contains(l, sub) {
					t.Errorf("%s: %q, want %s ... %q\n%s", name, l, status, sub, out)
				}
			}
			for _, secret := range []string{tc.env["TELEGRAM_BOT_TOKEN"], tc.env["BAKONG_TOKEN"]} {
				if secret != "" && strings.Contains(out+errOut, secret) {
					t.Errorf("output holds a secret:\n%s", out)
				}
			}
		})
	}
}

func TestDoctorProbesThroughProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.RequestURI)
		mu.Unlock()
		w.WriteHeader(http.StatusForbidden) // the proxy is not in Cambodia either
	}))
	defer proxy.Close()
	tg := telegramtest.New(t)
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(),
		"DATABASE_URL": filepath.Join(t.TempDir(), "k.db"),
		"BAKONG_TOKEN": jwt(time.Now().Add(time.Hour * 24 * 30)), "BAKONG_ACCOUNT_ID": "a@b", "MERCHANT_NAME": "M", "ADMIN_IDS": "1",
		"BAKONG_API_URL":   "http://bakong.example.kh",
		"BAKONG_PROXY_URL": "http://user:pass@" + strings.TrimPrefix(proxy.URL, "http://"),
	}
	code, out, _ := runCmd(t, env, "doctor")
	l := line(out, "bakong reachable")
	if code != 1 || !strings.Contains(l, "FAIL") || !strings.Contains(l, "through BAKONG_PROXY_URL") || strings.Contains(l, "pass@") {
		t.Errorf("exit %d, line %q", code, l)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "POST http://bakong.example.kh/v1/check_transaction_by_md5" {
		t.Errorf("proxy saw %v", seen)
	}
}

func TestDoctorUsage(t *testing.T) {
	if code, _, _ := runCmd(t, nil, "doctor", "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
	if code, _, _ := runCmd(t, nil, "doctor", "extra"); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
	code, out, _ := runCmd(t, nil, "help", "doctor")
	if code != 0 || !strings.Contains(out, "401 reachable, 403 geo-blocked") || !strings.Contains(out, "-timeout") || !strings.Contains(out, "BAKONG_PROXY_URL") {
		t.Errorf("help doctor: exit %d\n%s", code, out)
	}
}

// TestDoctorDatabase: doctor names the engine and the schema version on
// SQLite and PostgreSQL, refuses a schema newer than this build, and never
// shows a database password.
func TestDoctorDatabase(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		tg := telegramtest.New(t)
		env := func(dbURL string) map[string]string {
			return map[string]string{"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": dbURL}
		}
		dbURL := e.NewURL(t)
		engine := map[bool]string{false: "SQLite", true: "PostgreSQL"}[e.Postgres()]
		_, out, _ := runCmd(t, env(dbURL), "doctor")
		want := fmt.Sprintf("database          %s: %s ", storage.DisplayURL(dbURL), engine)
		if l := line(out, "database"); !strings.HasPrefix(l, "OK ") || !strings.Contains(l, want) ||
			!strings.Contains(l, fmt.Sprintf("schema version %d (this build's)", storage.LatestSchemaVersion())) {
			t.Errorf("database line %q, want OK %q and the schema version\n%s", l, want, out)
		}

		// A newer khqrbot migrated the database: this one must refuse it.
		driver, dsn := "sqlite3", dbURL
		if e.Postgres() {
			driver = "pgx"
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		newer := storage.LatestSchemaVersion() + 1
		if _, err := raw.Exec(fmt.Sprintf("INSERT INTO schema_migrations (version, applied_at) VALUES (%d, CURRENT_TIMESTAMP)", newer)); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCmd(t, env(dbURL), "doctor")
		want = fmt.Sprintf("database schema is version %d but this khqrbot knows only up to version %d: run a newer khqrbot", newer, newer-1)
		if l := line(out, "database"); code != 1 || !strings.HasPrefix(l, "FAIL ") || !strings.Contains(l, want) {
			t.Errorf("exit %d, database line %q, want FAIL %q", code, l, want)
		}

		if e.Postgres() {
			// Nothing listens on port 1: the connection is refused at once.
			code, out, _ := runCmd(t, env("postgres://khqrbot:dbsecret@127.0.0.1:1/khqrbot?sslmode=disable"), "doctor")
			l := line(out, "database")
			if code != 1 || !strings.HasPrefix(l, "FAIL ") || !strings.Contains(l, "cannot open postgres://khqrbot:xxxxx@127.0.0.1:1/khqrbot") || strings.Contains(out, "dbsecret") {
				t.Errorf("exit %d, database line %q\n%s", code, l, out)
			}
		}
	})
}

// TestDoctorChecksRenewedToken: doctor checks the token the bot uses, the
// renewed one in the database when it outlives BAKONG_TOKEN, and says which.
func TestDoctorChecksRenewedToken(t *testing.T) {
	tg := telegramtest.New(t)
	bk, _ := bakongStub(t, http.StatusUnauthorized)
	now := time.Now()
	for _, tc := range []struct {
		name          string
		config, saved time.Time // zero saved: nothing renewed
		code          int
		want          string
	}{
		{"renewed outlives an expired BAKONG_TOKEN", now.Add(-time.Hour), now.Add(80 * 24 * time.Hour), 0,
			"OK    bakong token      the renewed token in the database expires on"},
		{"a newer BAKONG_TOKEN wins", now.Add(60 * 24 * time.Hour), now.Add(-time.Hour), 0,
			"OK    bakong token      BAKONG_TOKEN expires on"},
		{"nothing renewed", now.Add(-time.Hour), time.Time{}, 1,
			"FAIL  bakong token      BAKONG_TOKEN expired on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			if !tc.saved.IsZero() {
				db, err := storage.Open(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.SaveToken(context.Background(), jwt(tc.saved)); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			env := map[string]string{
				"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": path,
				"BAKONG_TOKEN": jwt(tc.config), "BAKONG_API_URL": bk.URL, "BAKONG_EMAIL": "a@example.com",
				"BAKONG_ACCOUNT_ID": "shop@aclb", "MERCHANT_NAME": "Shop", "ADMIN_IDS": "1",
			}
			code, out, _ := runCmd(t, env, "doctor", "--timeout", "5s")
			if l := line(out, "bakong token"); code != tc.code || !strings.HasPrefix(l, tc.want) {
				t.Errorf("exit %d, %q; want exit %d, %q...\n%s", code, l, tc.code, tc.want, out)
			}
		})
	}
}
