package payments

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		rate  int
		steps []time.Duration // clock offset of each take
		want  int             // how many are allowed
	}{
		{"burst of rate at one instant", 5, make([]time.Duration, 8), 5},
		{"refills one per 1/rate", 5, []time.Duration{0, 0, 0, 0, 0, 0, 200 * time.Millisecond, 200 * time.Millisecond}, 6},
		{"a full second refills the burst", 2, []time.Duration{0, 0, 0, time.Second, time.Second, time.Second}, 4},
		{"idle time does not bank more than the burst", 3, []time.Duration{0, time.Hour, time.Hour, time.Hour, time.Hour}, 4},
		{"rate one", 1, []time.Duration{0, 0, 999 * time.Millisecond, time.Second}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBucket(tt.rate)
			got := 0
			for _, d := range tt.steps {
				if ok, wait := b.take(t0.Add(d)); ok {
					got++
				} else if wait <= 0 {
					t.Errorf("refused at %v with wait %v; want a positive wait", d, wait)
				}
			}
			if got != tt.want {
				t.Errorf("allowed %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBucketWait(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b := newBucket(4)
	for range 4 {
		b.take(t0)
	}
	ok, wait := b.take(t0)
	if ok || wait != 250*time.Millisecond {
		t.Fatalf("take = %v, %v; want false, 250ms", ok, wait)
	}
	if ok, _ := b.take(t0.Add(wait)); !ok {
		t.Fatal("take after the announced wait was refused")
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 5 * time.Second}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second},
		{4, time.Minute}, {60, time.Minute}, {1 << 30, time.Minute},
	}
	for _, tt := range tests {
		if got := backoff(5*time.Second, time.Minute, tt.n); got != tt.want {
			t.Errorf("backoff(5s, 1m, %d) = %v, want %v", tt.n, got, tt.want)
		}
	}
	if got := RetryDelay(0); got != 2*time.Second {
		t.Errorf("RetryDelay(0) = %v", got)
	}
	if got := RetryDelay(100); got != 5*time.Minute {
		t.Errorf("RetryDelay(100) = %v", got)
	}
}

func TestCycleStart(t *testing.T) {
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		after time.Duration // now, after base
		want  time.Duration // the cycle's start, after base
	}{
		{"first cycle", 0, 0},
		{"on time", 10 * time.Second, 10 * time.Second},
		{"a ticker a little late", 10*time.Second + 3*time.Millisecond, 10 * time.Second},
		{"after an overrun", 17 * time.Second, 15 * time.Second},
		{"just before the next", 20*time.Second - time.Nanosecond, 15 * time.Second},
	}
	for _, tt := range tests {
		if got := cycleStart(base, base.Add(tt.after), 5*time.Second); !got.Equal(base.Add(tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, got.Sub(base), tt.want)
		}
	}
}

func TestListAnswers(t *testing.T) {
	chunk := []QR{{MD5: "a"}, {MD5: "b"}, {MD5: "c"}, {MD5: "d"}, {MD5: "e"}, {MD5: "f"}}
	tx := &bakong.Transaction{Hash: strings.Repeat("1", 64)}
	res := []bakong.Result{ // out of order on purpose: matched by key
		{Key: "f", Status: bakong.ItemServiceFailed, Message: "Service unavailable"},
		{Key: "b", Status: bakong.ItemNotFound},
		{Key: "a", Status: bakong.ItemSuccess, Transaction: tx},
		{Key: "c", Status: bakong.ItemFailed},
		{Key: "d", Status: bakong.ItemStaticQR},
	}
	got := listAnswers(chunk, res, nil)
	if got[0].found != tx || got[0].err != nil {
		t.Errorf("a: %+v, want the transaction", got[0])
	}
	if !errors.Is(got[1].err, bakong.ErrNotFound) || !got[1].answered() {
		t.Errorf("b: %+v, want not found", got[1])
	}
	if !errors.Is(got[2].err, bakong.ErrFailed) || !got[2].answered() {
		t.Errorf("c: %+v, want failed", got[2])
	}
	for i := 3; i < 6; i++ {
		if got[i].err == nil || got[i].answered() {
			t.Errorf("%s: %+v, want an error that is not an answer", chunk[i].MD5, got[i])
		}
	}

	callErr := &bakong.Error{Kind: bakong.KindUnavailable, Message: "no answer"}
	for _, a := range listAnswers(chunk, nil, callErr) {
		if a.err != callErr {
			t.Fatalf("failed call: answer %+v, want the call's error", a)
		}
	}
}

func TestMerchantValidate(t *testing.T) {
	tests := []struct {
		m    Merchant
		want string // "" valid; else a word of the message
	}{
		{Merchant{AccountID: "shop@aba", Name: "Shop"}, ""},
		{Merchant{AccountID: "shop@aba", Name: "Shop", MerchantID: "123", AcquiringBank: "ABA"}, ""},
		{Merchant{AccountID: "shop@aba", Name: "Shop", AcquiringBank: "ABA"}, ""},
		{Merchant{AccountID: "shop", Name: "Shop"}, "name@bank"},
		{Merchant{AccountID: "a@b@c", Name: "Shop"}, "name@bank"},
		{Merchant{AccountID: "@aba", Name: "Shop"}, "name@bank"},
		{Merchant{AccountID: "shop@aba", Name: " "}, "name is empty"},
		{Merchant{AccountID: "shop@aba", Name: "Shop", MerchantID: "123"}, "acquiring bank"},
	}
	for _, tt := range tests {
		err := tt.m.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.m, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || ErrorCode(err) != EInvalid):
			t.Errorf("%+v: error %v, want EInvalid saying %q", tt.m, err, tt.want)
		}
	}
}
