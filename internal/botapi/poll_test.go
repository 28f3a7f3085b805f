package botapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var testBot = Bot{Token: "123456:TEST-TOKEN", ID: 1, Username: "fake_bot", FirstName: "FakeBot"}

// TestLongPollEndsWithClient: a long poll returns as soon as its client goes
// away, without waiting for its timeout or for Close; otherwise
// httptest.Server.Close would wait for the whole poll.
func TestLongPollEndsWithClient(t *testing.T) {
	s, err := New(Options{Bot: testBot, KeepCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/bot"+testBot.Token+"/getUpdates?timeout=50", nil)
	done := make(chan struct{})
	go func() {
		s.ServeHTTP(httptest.NewRecorder(), req)
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
