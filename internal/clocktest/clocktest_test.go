package clocktest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	c := New(time.Time{})
	if !c.Now().Equal(Start) {
		t.Fatalf("Now() = %v, want %v", c.Now(), Start)
	}
	if got := c.Advance(90 * time.Second); !got.Equal(Start.Add(90 * time.Second)) {
		t.Fatalf("Advance returned %v", got)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(at)
	if !c.Now().Equal(at) {
		t.Fatalf("after Set, Now() = %v, want %v", c.Now(), at)
	}
}

func TestClockConcurrent(t *testing.T) {
	c := New(time.Time{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if want := Start.Add(800 * time.Millisecond); !c.Now().Equal(want) {
		t.Fatalf("Now() = %v, want %v", c.Now(), want)
	}
}
