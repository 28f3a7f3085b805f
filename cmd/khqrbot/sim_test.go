package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSimFlags(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // on stdout or stderr
	}{
		{"help", []string{"sim", "-h"}, 0, "-token-lifetime"},
		{"help command", []string{"help", "sim"}, 0, "Usage: khqrbot sim"},
		{"unknown flag", []string{"sim", "--nope"}, 2, "flag provided but not defined"},
		{"negative lifetime", []string{"sim", "--token-lifetime", "-5d"}, 2, "want more than zero"},
		{"bad days", []string{"sim", "--token-lifetime", "ninetyd"}, 2, "want a number of days"},
		{"bad duration", []string{"sim", "--token-lifetime", "soon"}, 2, "want a duration"},
		{"zero lifetime", []string{"sim", "--token-lifetime", "0s"}, 2, "want more than zero"},
		{"bad account", []string{"sim", "--account", "nobank"}, 2, "name@bank"},
		{"bad addr", []string{"sim", "--addr", "8089"}, 2, "want host:port"},
		{"argument", []string{"sim", "now"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
			if code := dispatch(context.Background(), e, tt.args); code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), tt.output) {
				t.Errorf("output lacks %q:\n%s%s", tt.output, out.String(), errOut.String())
			}
		})
	}
}

func TestLifetimeFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "36h": 36 * time.Hour, "5m": 5 * time.Minute} {
		var f lifetimeFlag
		if err := f.Set(in); err != nil || time.Duration(f) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(f), err, want)
		}
	}
	if f := lifetimeFlag(90 * 24 * time.Hour); f.String() != "90d" {
		t.Errorf("String() = %q", f.String())
	}
}

// TestSimServes runs `khqrbot sim` in-process on a free port, pays a QR over
// the control API, finds it with the printed token, and stops it with ctx.
func TestSimServes(t *testing.T) {
	vars, stop := startSim(t, "--token-lifetime", "1h", "--account", "shop@devb")
	base, tok := vars["BAKONG_API_URL"], vars["BAKONG_TOKEN"]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") || tok == "" || vars["BAKONG_EMAIL"] == "" {
		t.Fatalf("printed %v", vars)
	}

	post := func(path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	const qr = "00020101021229180014jonhsmith@nbcq520459995303840540115802KH5910Jonh Smith6010Phnom Penh993400131767225600000011317672262000006304CE01"
	if st, tx := post("/_sim/pay", "", `{"qr":"`+qr+`"}`); st != 200 || tx["amount"] != 1.0 {
		t.Fatalf("pay: HTTP %d %v", st, tx)
	}
	if st, env := post("/v1/check_transaction_by_md5", tok, `{"md5":"b02e38f93509bc3f98802c0460df2510"}`); st != 200 || env["responseCode"] != 0.0 {
		t.Errorf("check: HTTP %d %v", st, env)
	}
	if st, env := post("/v1/check_bakong_account", "", `{"accountId":"shop@devb"}`); st != 200 || env["errorCode"] != nil {
		t.Errorf("account: HTTP %d %v", st, env)
	}

	stop()
}

// startSim runs `khqrbot sim` in-process on a free port with extra args and
// returns the KEY=VALUE variables it printed. stop cancels it and checks
// that it exits 0.
func startSim(t *testing.T, args ...string) (vars map[string]string, stop func()) {
	t.Helper()
	out, errOut, stopCmd := startCommand(t, append([]string{"sim", "--addr", "127.0.0.1:0", "--quiet"}, args...)...)
	vars = map[string]string{}
	lines := bufio.NewScanner(out)
	for len(vars) < 3 && lines.Scan() {
		if k, v, found := strings.Cut(lines.Text(), "="); found && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}
	go io.Copy(io.Discard, out)
	return vars, func() {
		t.Helper()
		if code := stopCmd(); code != 0 {
			t.Errorf("sim exit %d: %s", code, errOut.String())
		}
	}
}

// startCommand runs khqrbot with args in-process, with an empty
// environment; out reads what it prints. stop cancels it, as SIGTERM does,
// and returns its exit code; it fails the test if the command does not stop.
func startCommand(t *testing.T, args ...string) (out io.Reader, errOut *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	errOut = &lockedBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: outW, stderr: errOut, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, e, args)
		outW.Close()
	}()
	return outR, errOut, func() int {
		t.Helper()
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatalf("khqrbot %s did not stop after ctx was cancelled", args[0])
			return -1
		}
	}
}
