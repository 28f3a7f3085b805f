package telegramtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestLongPollEndsWithClient: a long poll returns as soon as its client goes
// away, without waiting for its timeout or for Close; otherwise
// httptest.Server.Close would wait for the whole poll.
func TestLongPollEndsWithClient(t *testing.T) {
	s := New(t)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/bot"+Token+"/getUpdates?timeout=50", nil)
	done := make(chan struct{})
	go func() {
		s.serveHTTP(httptest.NewRecorder(), req)
		close(done)
	}()
	if !s.WaitFor(5*time.Second, func() bool { return len(s.CallsTo("getUpdates")) == 1 }) {
		t.Fatal("poll not started")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second): // a hang detector; the poll's own timeout is 50 s
		t.Fatal("long poll outlived its client")
	}
}
