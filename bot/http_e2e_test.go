package bot_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/bot"
	"github.com/khqrbot/khqrbot/internal/telegramtest"
)

// TestHTTPTimeouts: connections that send a request body too slowly, or sit
// idle between requests, are closed by the server on LISTEN_ADDR.
func TestHTTPTimeouts(t *testing.T) {
	const secret = "s3cret"
	h := newHarness(t, options{webhook: true, secret: secret, noPolling: true,
		http: bot.HTTPLimits{ReadTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}})
	const each = 20
	var conns []net.Conn
	for i := range 2 * each {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i < each { // slow body: the headers, then one byte of a 1000-byte body
			fmt.Fprintf(c, "POST /telegram/hook HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Length: 1000\r\n\r\n{", secret)
		} else { // idle: one request answered, then nothing
			fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	open := make([]bool, len(conns))
	for i, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(waitLong))
			_, err := io.Copy(io.Discard, c) // until the server closes the connection
			open[i] = errors.Is(err, os.ErrDeadlineExceeded)
		})
	}
	wg.Wait()
	var slow, idle int
	for i, o := range open {
		switch {
		case o && i < each:
			slow++
		case o:
			idle++
		}
	}
	if slow+idle > 0 {
		t.Errorf("after %v, %d of %d slow-body and %d of %d idle connections were still open", waitLong, slow, each, idle, each)
	}
}

// TestHTTPConnectionCap: the server serves MaxConns connections at once;
// the next waits until one of them is done.
func TestHTTPConnectionCap(t *testing.T) {
	const max = 4
	h := newHarness(t, options{webhook: true, noPolling: true, http: bot.HTTPLimits{MaxConns: max}})
	var hold []net.Conn
	for range max { // each sends half a request and waits
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET /healthz HTTP/1.1\r\n")
		hold = append(hold, c)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	client.Timeout = 500 * time.Millisecond
	if resp, err := client.Get("http://" + h.addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a request was served while %d connections were open: %s", max, resp.Status)
	}
	hold[0].Close()
	client.Timeout = waitLong
	resp, err := client.Get("http://" + h.addr + "/healthz")
	if err != nil {
		t.Fatalf("once a connection closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %s", resp.Status)
	}
}

// TestWrongSecretLogged: a flood of posts with a wrong webhook secret is
// logged once a minute at most, with the count of those left out.
func TestWrongSecretLogged(t *testing.T) {
	h := newHarness(t, options{webhook: true, secret: "right", noPolling: true, fakeClock: true})
	hook := "http://" + h.addr + "/telegram/hook"
	update := map[string]any{"update_id": 1}
	post := func(n int) {
		for range n {
			if code, err := telegramtest.PostUpdate(hook, "wrong", update); err != nil || code != http.StatusUnauthorized {
				t.Fatalf("wrong secret: %d, %v; want 401", code, err)
			}
		}
	}
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(l, "wrong secret token") {
				out = append(out, l)
			}
		}
		return out
	}
	post(100)
	if l := lines(); len(l) != 1 {
		t.Fatalf("100 wrong secrets in a minute logged %d lines, want 1", len(l))
	}
	h.fake.Advance(time.Minute)
	post(1)
	if l := lines(); len(l) != 2 || !strings.Contains(l[1], "not_logged_since_last=99") {
		t.Errorf("a minute later: %q, want a second line with not_logged_since_last=99", l)
	}
}
