package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// ReconcilerConfig tunes the Reconciler. Zero fields take the defaults below.
type ReconcilerConfig struct {
	Interval   time.Duration // POLL_INTERVAL; default DefaultInterval
	MaxRPS     int           // request budget per second towards Bakong (BAKONG_MAX_RPS); default DefaultMaxRPS
	Grace      time.Duration // final check after expiry; default: the Service's Grace
	MaxBackoff time.Duration // cap of the error backoff; default 1 min

	// ListRetry is how long a refused md5 list endpoint is left alone before
	// it is tried again; default 10 min.
	ListRetry time.Duration
	// AlertAfter is how many failures in a row raise one EventAlert; default 5.
	AlertAfter int

	// Budget is what every call draws from; default the Service's
	// (Config.Budget), else a MemoryBudget of MaxRPS, which the Service then
	// shares for its own calls. Replicas share a StoreBudget, so that MaxRPS holds for the
	// deployment.
	Budget Budget
	// ClaimFor is how long a claim on due QRs (Store.ClaimDueQRs) keeps
	// other replicas off them; those of a replica that dies are checked by
	// another after it. Default 2×Interval + 10s: a cycle, with its calls,
	// ends well inside it.
	ClaimFor time.Duration
	// Observer is told of each cycle and each wait for the request budget
	// (metrics); nil: nobody.
	Observer Observer
}

// Reconciler defaults.
const (
	DefaultInterval   = 3 * time.Second // POLL_INTERVAL
	DefaultMaxRPS     = 5               // BAKONG_MAX_RPS
	DefaultMaxBackoff = time.Minute
	DefaultListRetry  = 10 * time.Minute
	DefaultAlertAfter = 5
)

// listSize is the most md5s one check_transaction_by_md5_list call takes.
const listSize = 50

// claimBatch is how many due QRs a tick claims at a time: ten list calls'
// worth, so that claims cost little next to the calls, yet replicas share
// a large backlog.
const claimBatch = 10 * listSize

// gridEpoch anchors the cycles of Run: every replica's cycles start at the
// same instants (multiples of Interval since the epoch), so one cycle's
// due QRs are claimed together, in full lists, whoever claims them.
var gridEpoch = time.Unix(0, 0)

// Reconciler polls Bakong for every pending QR and applies what it finds.
//
// Its schedule lives in the database (QR.NextCheckAt), so a restart resumes
// where polling stopped. Several replicas on one database share the work:
// a tick claims due QRs (Store.ClaimDueQRs) a batch at a time, in ID
// order, so each due QR is checked by one replica per cycle, and a replica
// that dies leaves its claims to expire (ClaimFor) for another. When the
// budget runs short, the next cycle starts where the last one stopped, so
// every QR gets its turn. Every replica's cycles start
// on one grid of Intervals, and calls draw from one Budget, so the
// deployment makes about ceil(N/50) calls per interval for N pending QRs,
// and MaxRPS holds for all together. A payment seen by two reconcilers
// still settles once (see Service.Apply).
//
// The rules, per pending QR:
//   - It is checked every Interval while it lives, and once more at
//     ExpiresAt+Grace (the final check). Its next check counts from the
//     start of the cycle that checked it, not from the call, so a QR checked
//     late in a long cycle is still due in the next one. Only a successful
//     "not found" at or after ExpiresAt+Grace expires it; after that it is
//     never asked about again.
//   - A found transaction goes to Service.Apply; "failed" fails the QR.
//   - Anything else (HTTP errors, timeouts, 429, STATIC_QR, SERVICE_FAILED,
//     other error codes) changes no state but the check record: the QR is
//     retried after a backoff (Interval, doubled per failure, capped by
//     MaxBackoff, counted from the cycle's start; at least a 429's
//     Retry-After; never past the final check time), however long its
//     expiry has passed, until Bakong answers.
//   - QRs of an invoice that another QR settled keep being polled until
//     their own final check, so a second payment is flagged (EventDuplicate),
//     never lost. Their expiry, like any expiry or failure of a QR whose
//     invoice is not open, writes no event: customers never see "expired"
//     for a paid invoice.
//
// Calls go in md5 lists of 50; when the list endpoint is refused
// (bakong.KindListRefused), single md5 checks replace it for ListRetry. All
// calls draw from the Budget (MaxRPS per second) on the injected clock:
// a tick that runs out releases the QRs it claimed but did not check, due
// for the next tick. A 429 ends the tick at once.
//
// After AlertAfter failed calls in a row, one EventAlert tells the admins
// that Bakong is not answering, and another when it answers again: once
// for the deployment, however many replicas see it (the outage is a
// setting that one replica swaps). A QR whose
// own checks fail AlertAfter times in a row while Bakong otherwise answers
// gets one alert of its own.
//
// About once an hour a tick also deletes call-log rows and delivered events
// older than 30 days (Store.Prune), which would otherwise grow forever.
type Reconciler struct {
	store   Store
	api     Bakong
	clock   Clock
	log     *slog.Logger
	settler settler
	budget  Budget
	cfg     ReconcilerConfig

	lastTick atomic.Pointer[time.Time] // when the last tick finished

	// What outlives a tick; a tick's own state is its cycle.
	mu          sync.Mutex // one tick at a time; guards the fields below
	listRetryAt time.Time  // when the md5 list endpoint may be tried again
	failStreak  int        // failed calls in a row
	outage      bool       // an outage alert was written for the current streak
	pauseUntil  time.Time  // no calls before this (after a 429)
	pruneAt     time.Time  // when to prune old rows next
	resume      int64      // the next cycle claims QRs with IDs above this first (check)
}

// settler is what the Reconciler needs of the Service: apply what Bakong
// found, close a QR with its event, and wake the outbox consumer.
type settler interface {
	Apply(ctx context.Context, q *QR, found *bakong.Transaction, source string) (*Payment, error)
	closeQR(ctx context.Context, q *QR, to QRStatus, kind EventKind, at time.Time) error
	notify()
}

// cycle is one tick's state, passed through the tick and gone after it.
type cycle struct {
	start      time.Time                                 // the tick's start: the base of the next checks
	wait       func(context.Context, time.Duration) bool // nil: the tick never waits for budget
	tokens     int                                       // requests taken from the budget and not yet spent
	outageSeen bool                                      // the tick looked at the deployment's outage state
	firstErr   error                                     // the tick's first error
	notes      []checkNote                               // check records, stored at the tick's end
}

// NewReconciler returns a Reconciler that polls for svc: it shares the
// Service's store, Bakong client, clock and log, and settles through it.
func NewReconciler(svc *Service, cfg ReconcilerConfig) *Reconciler {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxRPS <= 0 {
		cfg.MaxRPS = DefaultMaxRPS
	}
	if cfg.Grace <= 0 {
		cfg.Grace = svc.cfg.Grace
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.Interval)
	if cfg.ListRetry <= 0 {
		cfg.ListRetry = DefaultListRetry
	}
	if cfg.AlertAfter <= 0 {
		cfg.AlertAfter = DefaultAlertAfter
	}
	if cfg.Budget == nil {
		cfg.Budget = svc.budget()
	}
	if cfg.Budget == nil {
		cfg.Budget = MemoryBudget(cfg.MaxRPS)
	}
	svc.shareBudget(cfg.Budget)
	if cfg.ClaimFor <= 0 {
		cfg.ClaimFor = 2*cfg.Interval + 10*time.Second
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	return &Reconciler{
		store: svc.store, api: svc.api, clock: svc.clock, log: svc.log, settler: svc,
		budget: cfg.Budget, cfg: cfg,
	}
}

// Tick runs one reconciliation cycle over the QRs due now. It never sleeps:
// when the request budget runs out, the QRs left stay due for the next tick.
// Errors are logged, and those of single QRs do not stop the tick; it
// returns the first, or ctx's error when ctx ended it.
//
// Run ticks on its own grid of Intervals and never calls Tick. Tick is
// exported for the tests of packages built on payments (bot's end-to-end
// tests), which drive the reconciler one cycle at a time on a fake clock;
// an export_test.go would not reach them.
func (r *Reconciler) Tick(ctx context.Context) error {
	return r.tick(ctx, &cycle{start: r.clock.Now()})
}

// LastTick returns when the last tick finished, by the Service's clock,
// whatever its errors (they are logged and alerted): its age tells whether
// the polling loop is alive. It is zero before the first tick finishes, and
// safe to call while a tick runs.
func (r *Reconciler) LastTick() time.Time {
	if t := r.lastTick.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// Run ticks every Interval until ctx is done, then returns nil. Unlike Tick,
// a cycle that runs out of request budget waits (in real time) for more,
// until the next cycle would begin. Use Tick with a fake clock.
//
// Each cycle starts on a grid of Intervals from gridEpoch, the same for
// every replica, and its start (not the moment the timer fired) is what
// its QRs' next checks count from, so a tick that fires a little late
// cannot find the QRs checked then not yet due.
func (r *Reconciler) Run(ctx context.Context) error {
	for {
		now := r.clock.Now()
		start := cycleStart(gridEpoch, now, r.cfg.Interval)
		deadline := time.Now().Add(start.Add(r.cfg.Interval).Sub(now))
		_ = r.tick(ctx, &cycle{start: start, wait: func(ctx context.Context, d time.Duration) bool { // its errors are logged
			if time.Now().Add(d).After(deadline) {
				return false
			}
			return Sleep(ctx, d)
		}})
		now = r.clock.Now()
		if !Sleep(ctx, cycleStart(gridEpoch, now, r.cfg.Interval).Add(r.cfg.Interval).Sub(now)) {
			return nil
		}
	}
}

// cycleStart is the last point at or before now on the grid of intervals d from base.
func cycleStart(base, now time.Time, d time.Duration) time.Time {
	return now.Add(-now.Sub(base) % d)
}

// Sleep waits d on the real clock, or until ctx ends, and reports whether
// d passed: how the Reconciler's Run and the bot's long-polling loop wait.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tick runs cycle c, which began at c.start (at or before the clock's now).
// A cycle cut short by ctx is not observed: it neither failed nor succeeded.
func (r *Reconciler) tick(ctx context.Context, c *cycle) (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	began := r.clock.Now()
	defer func() {
		t := r.clock.Now()
		r.lastTick.Store(&t)
		if ctx.Err() == nil {
			r.cfg.Observer.CycleDone(t.Sub(began), err)
		}
	}()
	r.check(ctx, c)
	if ctx.Err() != nil {
		// Stopping: record what was checked, so those QRs are not left
		// claimed (and unchecked) until their claims expire.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		defer cancel()
		r.storeChecks(rctx, c)
		return ctx.Err()
	}
	r.storeChecks(ctx, c)
	r.prune(ctx)
	return c.firstErr
}

// Housekeeping: call-log rows and delivered events are kept for retention,
// then deleted by the reconciler at most once every pruneEvery, pruneBatch
// rows of each at a time.
const (
	retention  = 30 * 24 * time.Hour
	pruneEvery = time.Hour
	pruneBatch = 1000
)

// prune deletes call-log rows and delivered events older than retention
// when it is time to. A full batch means more are waiting (the first run
// after an upgrade): the next tick goes on, so that no one tick is held up
// for long. Failures are only logged: nothing depends on pruning.
func (r *Reconciler) prune(ctx context.Context) {
	now := r.clock.Now()
	if now.Before(r.pruneAt) {
		return
	}
	r.pruneAt = now.Add(pruneEvery)
	n, err := r.store.Prune(ctx, now.Add(-retention), pruneBatch)
	if err != nil {
		r.log.Warn("prune old call-log rows and events", "err", err)
		return
	}
	if n >= pruneBatch {
		r.pruneAt = now
	}
	if n > 0 {
		r.log.Info("pruned old call-log rows and events", "rows", n)
	}
}

// logErr logs err and keeps it as c's error when it is the first.
func (r *Reconciler) logErr(c *cycle, err error) {
	if err == nil {
		return
	}
	r.log.Warn("reconcile", "err", err)
	if c.firstErr == nil {
		c.firstErr = err
	}
}

// check claims the QRs due at the cycle's start, a batch at a time in ID
// order, and asks Bakong about them until none is left. QRs that fall due
// during the cycle (new ones, final checks) wait for the next: otherwise
// every replica ticking a little later, or claiming its next batch, would
// ask about them in lists of a few. It stops early when the budget is
// spent, on a 429, or when ctx is done; QRs it claimed but did not ask
// about are released, due for the next tick.
//
// Each claim starts after the last QR the one before claimed, so no claim
// reads the QRs claimed before it. A cycle starts from the lowest ID, or,
// when the last one stopped early, after the last QR that one asked about,
// and then goes round to the lowest IDs (claim): when the budget allows
// fewer calls than QRs are due, each QR still gets its turn.
func (r *Reconciler) check(ctx context.Context, c *cycle) {
	after := r.resume
	wrapped := after == 0 // the lowest IDs come after the rest
	r.resume = 0
	for ctx.Err() == nil {
		now := r.clock.Now()
		if now.Before(r.pauseUntil) {
			r.resume = after
			return
		}
		qrs, err := r.claim(ctx, c, now, after, &wrapped)
		if err != nil {
			if ctx.Err() == nil {
				r.logErr(c, fmt.Errorf("claim due QRs: %w", err))
			}
			r.resume = after
			return
		}
		if len(qrs) == 0 {
			return
		}
		if rest := r.checkClaimed(ctx, c, qrs); len(rest) > 0 {
			r.release(ctx, c, rest)
			r.resume = rest[0].ID - 1
			return
		}
		after = qrs[len(qrs)-1].ID
	}
}

// claim claims the next batch of QRs due in cycle c after the ID after. A
// batch that reaches the highest ID goes on from the lowest, once a cycle
// (wrapped), so that the QRs on either side share md5 lists.
func (r *Reconciler) claim(ctx context.Context, c *cycle, now time.Time, after int64, wrapped *bool) ([]QR, error) {
	until := now.Add(r.cfg.ClaimFor)
	qrs, err := r.store.ClaimDueQRs(ctx, c.start, until, after, claimBatch)
	if err != nil || *wrapped || len(qrs) == claimBatch {
		return qrs, err
	}
	*wrapped = true
	more, err := r.store.ClaimDueQRs(ctx, c.start, until, 0, claimBatch-len(qrs))
	if err != nil {
		if len(qrs) == 0 {
			return nil, err
		}
		r.logErr(c, fmt.Errorf("claim due QRs: %w", err)) // the lowest IDs wait for the next cycle
	}
	return append(qrs, more...), nil
}

// markTimeout bounds releasing claims once ctx has ended.
const markTimeout = 5 * time.Second

// release gives back claimed QRs that were not asked about, due again as
// early as the earliest of them was; the next cycle starts with them
// (check).
func (r *Reconciler) release(ctx context.Context, c *cycle, qrs []QR) {
	ids := make([]int64, len(qrs))
	next := qrs[0].NextCheckAt
	for i, q := range qrs {
		ids[i] = q.ID
		if q.NextCheckAt.Before(next) {
			next = q.NextCheckAt
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	if err := r.store.ReleaseQRs(ctx, ids, next); err != nil {
		r.logErr(c, fmt.Errorf("release claimed QRs (due again when their claims expire): %w", err))
	}
}

// calls is how many calls asking about qrs take.
func (r *Reconciler) calls(qrs []QR) int {
	if r.inLists(qrs, r.clock.Now()) {
		return (len(qrs) + listSize - 1) / listSize
	}
	return len(qrs)
}

// inLists reports whether qrs are asked about in md5 lists at `at`: more
// than one, and the list endpoint not refused lately.
func (r *Reconciler) inLists(qrs []QR, at time.Time) bool {
	return len(qrs) > 1 && !at.Before(r.listRetryAt)
}

// checkClaimed asks Bakong about qrs, in lists while the list endpoint
// works, and applies the answers. It returns the QRs it did not ask about
// when the budget ran out, on a 429, or when ctx ended.
func (r *Reconciler) checkClaimed(ctx context.Context, c *cycle, qrs []QR) []QR {
	for len(qrs) > 0 {
		if !r.take(ctx, c, r.calls(qrs)) {
			return qrs
		}
		at := r.clock.Now()
		if r.inLists(qrs, at) {
			n := min(listSize, len(qrs))
			chunk := qrs[:n]
			res, err := r.api.CheckMD5List(ctx, md5s(chunk))
			if ctx.Err() != nil {
				return qrs
			}
			if bakong.IsKind(err, bakong.KindListRefused) {
				r.listRetryAt = at.Add(r.cfg.ListRetry)
				r.log.Warn("md5 list refused: single checks until "+stamp(r.listRetryAt), "err", err)
				continue
			}
			ans := listAnswers(chunk, res, err)
			r.logErr(c, r.trackOutage(ctx, c, slices.ContainsFunc(ans, answer.answered), err, at))
			r.apply(ctx, c, chunk, ans, at)
			qrs = qrs[n:]
			if bakong.IsKind(err, bakong.KindRateLimited) {
				return qrs
			}
			continue
		}
		found, err := r.api.CheckMD5(ctx, qrs[0].MD5)
		if ctx.Err() != nil {
			return qrs
		}
		a := answer{found: found, err: err}
		r.logErr(c, r.trackOutage(ctx, c, a.answered(), err, at))
		r.apply(ctx, c, qrs[:1], []answer{a}, at)
		qrs = qrs[1:]
		if bakong.IsKind(err, bakong.KindRateLimited) {
			return qrs
		}
	}
	return nil
}

// take spends one request of the budget, taking up to want at once from
// the Budget (one round trip for several calls), waiting for one if the
// cycle may.
func (r *Reconciler) take(ctx context.Context, c *cycle, want int) bool {
	now := r.clock.Now()
	if now.Before(r.pauseUntil) {
		return false
	}
	if c.tokens > 0 {
		c.tokens--
		r.cfg.Observer.BudgetWait(0)
		return true
	}
	took, d, err := r.budget.Take(ctx, now, max(want, 1))
	if err != nil {
		r.logErr(c, err)
		return false
	}
	var waited time.Duration
	if took == 0 {
		if c.wait == nil || !c.wait(ctx, d) {
			return false
		}
		if took, _, err = r.budget.Take(ctx, r.clock.Now(), max(want, 1)); err != nil {
			r.logErr(c, err)
			return false
		}
		waited = d
	}
	if took == 0 {
		return false
	}
	c.tokens = took - 1
	r.cfg.Observer.BudgetWait(waited)
	return true
}

// answer is what Bakong said about one QR: a transaction, or an error
// (bakong.ErrNotFound and bakong.ErrFailed are answers too).
type answer struct {
	found *bakong.Transaction
	err   error
}

// answered reports whether Bakong gave a definite answer.
func (a answer) answered() bool {
	return a.err == nil || errors.Is(a.err, bakong.ErrNotFound) || errors.Is(a.err, bakong.ErrFailed)
}

// listAnswers matches a list call's items to chunk by md5. A call that failed
// fails every QR; an md5 the answer left out fails its QR.
func listAnswers(chunk []QR, res []bakong.Result, err error) []answer {
	out := make([]answer, len(chunk))
	if err != nil {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	byKey := make(map[string]bakong.Result, len(res))
	for _, it := range res {
		byKey[it.Key] = it
	}
	for i, q := range chunk {
		it, ok := byKey[q.MD5]
		switch {
		case !ok:
			out[i].err = errors.New("md5 list answer left this md5 out")
		case it.Status == bakong.ItemSuccess && it.Transaction != nil:
			out[i].found = it.Transaction
		case it.Status == bakong.ItemNotFound:
			out[i].err = bakong.ErrNotFound
		case it.Status == bakong.ItemFailed:
			out[i].err = bakong.ErrFailed
		default:
			out[i].err = fmt.Errorf("md5 list item %s: %s", it.Status, it.Message)
		}
	}
	return out
}

func md5s(qrs []QR) []string {
	out := make([]string, len(qrs))
	for i, q := range qrs {
		out[i] = q.MD5
	}
	return out
}

// checkNote is one check record to store.
type checkNote struct {
	QRCheck
	alert string // non-empty: write an AlertQRChecks saying this with the record
}

// apply acts on the answers for qrs, asked at `at`. Payments, failures and
// final expiries are applied at once, each in its own transaction, so a
// payment settles as soon as it is seen; the check records of the rest are
// kept in c for storeChecks.
func (r *Reconciler) apply(ctx context.Context, c *cycle, qrs []QR, ans []answer, at time.Time) {
	final := at.Add(-r.cfg.Grace) // a QR that expired at or before this has had its grace
	for i := range qrs {
		q, a := &qrs[i], ans[i]
		switch {
		case a.err == nil:
			if _, err := r.settler.Apply(ctx, q, a.found, SourcePoll); err != nil {
				r.logErr(c, err)
				c.notes = append(c.notes, r.failed(c, q, at, err))
			}
		case errors.Is(a.err, bakong.ErrFailed):
			r.logErr(c, r.settler.closeQR(ctx, q, QRFailed, EventFailed, at))
		case errors.Is(a.err, bakong.ErrNotFound) && !q.ExpiresAt.After(final):
			r.logErr(c, r.settler.closeQR(ctx, q, QRExpired, EventExpired, at))
		case errors.Is(a.err, bakong.ErrNotFound):
			c.notes = append(c.notes, checkNote{QRCheck: QRCheck{QRID: q.ID, CheckedAt: at, Next: r.next(q, at, c.start.Add(r.cfg.Interval))}})
		default:
			c.notes = append(c.notes, r.failed(c, q, at, a.err))
		}
	}
}

// recordBatch is how many check records share a transaction: few
// commits (each waits for the disk), yet the write lock is never held long.
const recordBatch = 2000

// storeChecks stores c's check records (and per-QR alerts), in batches.
func (r *Reconciler) storeChecks(ctx context.Context, c *cycle) {
	checks := make([]QRCheck, 0, min(recordBatch, len(c.notes)))
	for notes := c.notes; len(notes) > 0; {
		batch := notes[:min(recordBatch, len(notes))]
		notes = notes[len(batch):]
		checks = checks[:0]
		for _, n := range batch {
			checks = append(checks, n.QRCheck)
		}
		var told bool
		err := r.store.WithTx(ctx, func(st Store) error {
			told = false
			if err := st.SetQRChecks(ctx, checks); err != nil {
				return err
			}
			for _, n := range batch {
				if n.alert == "" {
					continue
				}
				if err := st.AddEvent(ctx, &Event{Kind: EventAlert, Alert: AlertQRChecks, QRID: n.QRID, Detail: n.alert, CreatedAt: n.CheckedAt}); err != nil {
					return err
				}
				told = true
			}
			return nil
		})
		if err != nil {
			r.logErr(c, fmt.Errorf("record checks: %w", err))
		}
		if told {
			r.settler.notify()
		}
	}
}

// failed is the check record of a failed check of q in cycle c.
func (r *Reconciler) failed(c *cycle, q *QR, at time.Time, err error) checkNote {
	n := checkNote{QRCheck: QRCheck{QRID: q.ID, CheckedAt: at, Failures: q.CheckFailures + 1, LastError: err.Error()}}
	t := c.start.Add(backoff(r.cfg.Interval, r.cfg.MaxBackoff, n.Failures-1))
	var rl *bakong.Error
	if errors.As(err, &rl) && rl.Kind == bakong.KindRateLimited {
		t = later(t, at.Add(rl.RetryAfter))
	}
	n.Next = r.next(q, at, t)
	if n.Failures == r.cfg.AlertAfter && !r.outage {
		n.alert = fmt.Sprintf("checks of QR %s failed %d times in a row: %v", q.BillNumber, n.Failures, err)
	}
	return n
}

// next is when to check q, checked at `at`, again: t, but no later than its
// final check while that is still ahead.
func (r *Reconciler) next(q *QR, at, t time.Time) time.Time {
	if final := q.ExpiresAt.Add(r.cfg.Grace); at.Before(final) && t.After(final) {
		return final
	}
	return t
}

// trackOutage counts the outcome of one call of cycle c for the outage
// alert: ok when Bakong answered something definite (a list call whose
// every item is SERVICE_FAILED did not). A 429 also pauses calls for its
// Retry-After.
func (r *Reconciler) trackOutage(ctx context.Context, c *cycle, ok bool, err error, at time.Time) error {
	if ok {
		r.failStreak = 0
		if !r.outage && c.outageSeen {
			return nil
		}
		// Once a tick, and after an outage this replica saw: end the
		// deployment's outage, if one stands (another replica may have
		// raised it and died).
		r.outage, c.outageSeen = false, true
		ended, err := r.store.SwapSetting(ctx, outageKey, outageOn, "")
		if err != nil || !ended {
			return err
		}
		return r.alert(ctx, at, AlertRecovered, "Bakong answers again")
	}
	var be *bakong.Error
	if errors.As(err, &be) && be.Kind == bakong.KindRateLimited {
		r.pauseUntil = at.Add(max(be.RetryAfter, time.Second))
	}
	r.failStreak++
	if r.failStreak == r.cfg.AlertAfter {
		r.outage = true
		began, serr := r.store.SwapSetting(ctx, outageKey, "", outageOn)
		if serr != nil || !began {
			return serr // another replica told the admins already
		}
		if err == nil {
			err = errors.New("every list item failed")
		}
		return r.alert(ctx, at, AlertOutage, fmt.Sprintf("Bakong checks failed %d times in a row; payments are not being confirmed: %v", r.failStreak, err))
	}
	return nil
}

// The deployment's outage state: the setting outageKey is outageOn from
// the outage alert until the "answers again" one, whichever replicas
// write them.
const (
	outageKey = "bakong.outage"
	outageOn  = "on"
)

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// alert writes an EventAlert of that kind about Bakong as a whole.
func (r *Reconciler) alert(ctx context.Context, at time.Time, kind AlertKind, detail string) error {
	r.log.Warn("alert: " + detail)
	if err := r.store.AddEvent(ctx, &Event{Kind: EventAlert, Alert: kind, Detail: detail, CreatedAt: at}); err != nil {
		return fmt.Errorf("write alert: %w", err)
	}
	r.settler.notify()
	return nil
}

// bucket is a token bucket on an injected clock (GCRA): one request every
// 1s/rate, bursts of up to rate requests.
type bucket struct {
	cost  time.Duration // time one request costs
	burst time.Duration // how far ahead of now the bucket may run
	tat   time.Time     // theoretical arrival time of the next request
}

func newBucket(rate int) bucket {
	cost := time.Second / time.Duration(rate)
	return bucket{cost: cost, burst: time.Duration(rate-1) * cost}
}

// take spends one request at now if the budget allows; otherwise it says how
// long until it will.
func (b *bucket) take(now time.Time) (bool, time.Duration) { return b.takeWithin(now, b.burst) }

// takeWithin is take with a burst of at most burst.
func (b *bucket) takeWithin(now time.Time, burst time.Duration) (bool, time.Duration) {
	tat := b.tat
	if tat.Before(now) {
		tat = now
	}
	if ahead := tat.Sub(now); ahead > burst {
		return false, ahead - burst
	}
	b.tat = tat.Add(b.cost)
	return true, 0
}
