package payments_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
)

// batchStore records the batches LogCalls receives.
type batchStore struct {
	payments.Store
	mu      sync.Mutex
	batches [][]payments.APICall
	wrote   chan struct{} // a batch arrived
}

func (s *batchStore) LogCalls(_ context.Context, calls []payments.APICall) error {
	s.mu.Lock()
	s.batches = append(s.batches, append([]payments.APICall(nil), calls...))
	s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return nil
}

func (s *batchStore) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n []int
	for _, b := range s.batches {
		n = append(n, len(b))
	}
	return n
}

// TestCallLogBatches: calls are written in batches of 500, in order, a full
// batch without waiting for the timer, and Close writes the rest.
func TestCallLogBatches(t *testing.T) {
	st := &batchStore{wrote: make(chan struct{}, 1)}
	l := payments.NewCallLog(st, nil)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 1201 {
		l.Observe(bakong.Call{Endpoint: "check_transaction_by_md5_list", RequestID: fmt.Sprint(i), HTTPStatus: 200, Key: "50 md5s", At: at})
	}
	select {
	case <-st.wrote: // the first full batch, before any timer
	case <-time.After(30 * time.Second):
		t.Fatal("a full batch was not written")
	}
	l.Close()
	sizes := st.sizes()
	total := 0
	for _, n := range sizes {
		if n > 500 {
			t.Errorf("a batch of %d calls, want at most 500", n)
		}
		total += n
	}
	if total != 1201 || len(sizes) < 3 {
		t.Fatalf("batches %v, want 1201 calls in at least 3", sizes)
	}
	i := 0
	for _, b := range st.batches {
		for _, c := range b {
			if c.RequestID != fmt.Sprint(i) || c.Endpoint != "check_transaction_by_md5_list" || c.At != at {
				t.Fatalf("call %d: %+v", i, c)
			}
			i++
		}
	}
}

// TestCallLogFlushWritesQueued: Flush returns once the queued calls are stored.
func TestCallLogFlushWritesQueued(t *testing.T) {
	st := &batchStore{wrote: make(chan struct{}, 1)}
	l := payments.NewCallLog(st, nil)
	defer l.Close()
	l.Observe(bakong.Call{Endpoint: "check_transaction_by_md5", Key: "abc"})
	l.Flush(t.Context())
	if got := st.sizes(); len(got) != 1 || got[0] != 1 {
		t.Errorf("batches %v after Flush, want one of 1 call", got)
	}
}
