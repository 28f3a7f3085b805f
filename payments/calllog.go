package payments

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// Call-log batching. A reconciler cycle of 100,000 pending QRs makes 2,000
// list calls; written one INSERT (one commit, one fsync on SQLite) each,
// the log took about 40% of the cycle. CallLog queues the exchanges and
// writes them in batches (Store.LogCalls), off the caller's goroutine.
const (
	// callLogBatch is how many queued calls start a write at once.
	callLogBatch = 500
	// callLogDelay is the longest a call waits in the queue before it is
	// written, when fewer than callLogBatch are queued.
	callLogDelay = time.Second
	// callLogMax bounds the queue while the database cannot keep up or is
	// down: calls beyond it are dropped, and counted in a warning.
	callLogMax = 50_000
	// callLogTimeout bounds one batch's write.
	callLogTimeout = 10 * time.Second
)

// CallLog stores every Open API exchange in the call log, with what it was
// about (bakong.Call.Key); a call about one QR's md5 (a single check, a
// deeplink) is filed under that QR, so that ListCalls(qrID) shows a QR's
// history. Its Observe is a bakong.Options.Observer that only queues: a
// writer goroutine stores the queue in batches of up to callLogBatch, at
// most callLogDelay after a call, and Close writes what is left. It is best
// effort: a failed write is logged, never returned to a caller, and never
// slows a check. The call log holds no token: bakong.Call never carries one.
type CallLog struct {
	store Store
	log   *slog.Logger

	mu      sync.Mutex
	queue   []APICall
	dropped int // calls dropped since the last warning

	writing sync.Mutex // one batch at a time, in order
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// NewCallLog starts a CallLog writing to store; Close stops it.
func NewCallLog(store Store, log *slog.Logger) *CallLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &CallLog{
		store: store,
		log:   log,
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go l.run()
	return l
}

// Observe queues c for the call log. It never blocks on the database.
func (l *CallLog) Observe(c bakong.Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) >= callLogMax {
		l.dropped++
		return
	}
	l.queue = append(l.queue, APICall{
		Endpoint:     c.Endpoint,
		RequestID:    c.RequestID,
		HTTPStatus:   c.HTTPStatus,
		ResponseCode: c.ResponseCode,
		ErrorCode:    c.ErrorCode,
		Latency:      c.Latency,
		Err:          c.Err,
		Key:          c.Key,
		At:           c.At,
	})
	if len(l.queue) >= callLogBatch {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// run writes a batch whenever one is full, and what is queued every
// callLogDelay, until Close.
func (l *CallLog) run() {
	defer close(l.done)
	t := time.NewTicker(callLogDelay)
	defer t.Stop()
	for {
		select {
		case <-l.kick:
		case <-t.C:
		case <-l.stop:
			l.Flush(context.Background())
			return
		}
		l.Flush(context.Background())
	}
}

// Flush writes every call queued so far, in batches, and returns when
// they are stored (or dropped with a warning). ctx bounds the whole flush;
// each batch also has callLogTimeout.
func (l *CallLog) Flush(ctx context.Context) {
	l.writing.Lock()
	defer l.writing.Unlock()
	for ctx.Err() == nil {
		l.mu.Lock()
		batch := l.queue[:min(len(l.queue), callLogBatch)]
		l.queue = l.queue[len(batch):]
		if len(l.queue) == 0 {
			l.queue = nil // let the backing array go once drained
		}
		dropped := l.dropped
		l.dropped = 0
		l.mu.Unlock()
		if dropped > 0 {
			l.log.Warn("call log: queue full, calls not logged", "dropped", dropped)
		}
		if len(batch) == 0 {
			return
		}
		bctx, cancel := context.WithTimeout(ctx, callLogTimeout)
		err := l.store.LogCalls(bctx, batch)
		cancel()
		if err != nil {
			l.log.Warn("call log", "calls", len(batch), "err", err)
		}
	}
}

// Close writes what is queued and stops the writer. Calls observed after
// Close are written only by a later Flush.
func (l *CallLog) Close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}
