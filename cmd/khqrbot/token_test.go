package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/storage"
)

// tokenStatusCase is a run of 'khqrbot token status' and what it prints.
type tokenStatusCase struct {
	name string
	vars map[string]string
	args []string
	code int
	want []string // in stdout or stderr
}

// run checks the exit code and the output, which never shows the token.
func (tt tokenStatusCase) run(t *testing.T) {
	code, out, errOut := runTool(t, tt.vars, "", append([]string{"token", "status"}, tt.args...)...)
	if code != tt.code {
		t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
	}
	for _, w := range tt.want {
		if !strings.Contains(out+errOut, w) {
			t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
		}
	}
	if tok := tt.vars["BAKONG_TOKEN"]; tok != "" && strings.Contains(out+errOut, tok) {
		t.Error("status shows the token")
	}
}

func TestTokenStatus(t *testing.T) {
	soon := time.Now().Add(30*24*time.Hour + time.Hour)
	tests := []tokenStatusCase{
		{"valid, renewable", map[string]string{"BAKONG_TOKEN": jwt(soon), "BAKONG_EMAIL": "me@shop.kh"}, nil, 0,
			[]string{"token       BAKONG_TOKEN\n", "days left   30", "renewable   yes", soon.UTC().Format("2006-01-02")}},
		{"valid, no email", map[string]string{"BAKONG_TOKEN": jwt(soon)}, nil, 0, []string{"renewable   no: set BAKONG_EMAIL"}},
		{"expired", map[string]string{"BAKONG_TOKEN": jwt(time.Now().Add(-48 * time.Hour))}, nil, 1, []string{"EXPIRED"}},
		{"token flag", nil, []string{"--bakong-token", jwt(soon)}, 0, []string{"days left   30"}},
		{"flag overrides env", map[string]string{"BAKONG_TOKEN": "not-a-jwt"}, []string{"--bakong-token", jwt(soon), "--email", "me@shop.kh"}, 0, []string{"days left   30", "renewable   yes"}},
		{"bad email", map[string]string{"BAKONG_TOKEN": jwt(soon), "BAKONG_EMAIL": "not an email"}, nil, 2, []string{`BAKONG_EMAIL="not an email": want an email address`}},
		{"token with spaces", map[string]string{"BAKONG_TOKEN": "ey a.b c"}, nil, 2, []string{"BAKONG_TOKEN=(set): want the Open API token, without spaces"}},
		{"json", map[string]string{"BAKONG_TOKEN": jwt(soon)}, []string{"--json"}, 0, []string{`"source": "environment"`, `"daysLeft": 30`, `"renewable": false`, "renewal not possible"}},
		{"no token", nil, nil, 2, []string{"no token"}},
		{"unreadable", map[string]string{"BAKONG_TOKEN": "not-a-jwt"}, nil, 2, []string{"cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestTokenStatusRenewed: status reports the token the deployment uses,
// the renewed one in the database when it outlives BAKONG_TOKEN, and says
// which; it creates no database where there is none.
func TestTokenStatusRenewed(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	days := func(n int) string { return jwt(now.Add(time.Duration(n)*24*time.Hour + time.Hour)) }
	dir := t.TempDir()
	path := filepath.Join(dir, "k.db")
	db, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveToken(ctx, days(80)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	missing := filepath.Join(dir, "none.db")
	tests := []tokenStatusCase{
		{"renewed outlives BAKONG_TOKEN", map[string]string{"BAKONG_TOKEN": days(10), "DATABASE_URL": path}, nil, 0,
			[]string{"token       the renewed token in the database\n", "days left   80"}},
		{"renewed, expired BAKONG_TOKEN", map[string]string{"BAKONG_TOKEN": jwt(now.Add(-time.Hour)), "DATABASE_URL": path}, nil, 0,
			[]string{"token       the renewed token in the database\n", "days left   80"}},
		{"renewed, json", map[string]string{"BAKONG_TOKEN": days(10)}, []string{"--database-url", path, "--json"}, 0,
			[]string{`"source": "database"`, `"daysLeft": 80`}},
		{"newer BAKONG_TOKEN", map[string]string{"BAKONG_TOKEN": days(100), "DATABASE_URL": path}, nil, 0,
			[]string{"token       BAKONG_TOKEN\n", "days left   100"}},
		{"no database", map[string]string{"BAKONG_TOKEN": days(10), "DATABASE_URL": missing}, nil, 0,
			[]string{"token       BAKONG_TOKEN\n", "days left   10"}},
		{"database cannot be opened", map[string]string{"BAKONG_TOKEN": days(10), "DATABASE_URL": dir}, nil, 0,
			[]string{"a renewed token there could not be looked for", "token       BAKONG_TOKEN\n", "days left   10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("status made a database at %s: %v", missing, err)
	}
}

func TestTokenCalls(t *testing.T) {
	ts := newToolSim(t)
	code, out, errOut := runTool(t, ts.vars, "", "token", "renew")
	if code != 0 || !strings.HasPrefix(out, "BAKONG_TOKEN=ey") || !strings.Contains(out, "# expires 2026-04-10") {
		t.Fatalf("renew: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runTool(t, ts.vars, "", "token", "renew", "--email", "who@shop.kh")
	if code != 3 || !strings.Contains(errOut, "Not registered yet") {
		t.Fatalf("renew unknown: exit %d\n%s%s", code, out, errOut)
	}
	vars := map[string]string{"BAKONG_API_URL": ts.vars["BAKONG_API_URL"]}
	if code, _, _ := runTool(t, vars, "", "token", "renew"); code != 2 {
		t.Fatalf("renew without email: exit %d", code)
	}
	code, out, errOut = runTool(t, vars, "", "token", "request", "--email", "new@shop.kh", "--org", "Shop", "--project", "khqrbot")
	if code != 0 || !strings.Contains(out, "khqrbot token verify CODE") {
		t.Fatalf("request: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := runTool(t, vars, "", "token", "request", "--email", "new@shop.kh"); code != 2 {
		t.Fatalf("request without org: exit %d", code)
	}
	codeStr, found := ts.sim.LastCode("new@shop.kh")
	if !found {
		t.Fatal("no code sent")
	}
	code, out, errOut = runTool(t, vars, "", "token", "verify", codeStr, "--json")
	var j struct {
		Token     string
		ExpiresAt time.Time
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || j.Token == "" || !j.ExpiresAt.Equal(toolStart.Add(90*24*time.Hour)) {
		t.Fatalf("verify: exit %d %v\n%s%s", code, err, out, errOut)
	}
	if code, _, _ := runTool(t, vars, "", "token", "verify"); code != 2 {
		t.Fatalf("verify without code: exit %d", code)
	}
	if code, _, _ := runTool(t, vars, "", "token", "verify", "short"); code != 2 {
		t.Fatalf("verify short code: exit %d", code)
	}
	for _, args := range [][]string{{"token"}, {"token", "bogus"}} {
		if code, _, _ := runTool(t, vars, "", args...); code != 2 {
			t.Fatalf("%v: exit %d", args, code)
		}
	}
	if code, _, errOut := runTool(t, vars, "", "token", "-h"); code != 0 || !strings.Contains(errOut, "token renew") {
		t.Fatalf("token -h: exit %d %s", code, errOut)
	}
}
