package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/payments"
)

// Long polling with replicas: Telegram answers 409 to a second getUpdates,
// so only the replica holding the poller lease (payments.PollerLease)
// calls it. The holder renews the lease every pollerRenew and stops
// polling before it would expire unrenewed; the others try to take it
// every pollerRetry, so a survivor takes over within pollerLease +
// pollerRetry of the poller's death (or at once when it stops cleanly and
// releases the lease). The poller stores each batch in the inbox before
// the next call confirms it (inbox.go): what the dead poller took, a
// survivor runs; what it took but never confirmed comes again to its
// successor, and the inbox drops it as already taken.
//
// The library's own loop (tgbot.Bot.Start) cannot stop polling without
// stopping its workers too, nor be held to a lease, hence this one; the
// library still routes and handles each update (ProcessUpdate).
const (
	pollerLease  = 10 * time.Second
	pollerRenew  = 2 * time.Second
	pollerRetry  = 2 * time.Second
	pollerMargin = 2 * time.Second // polling stops this long before an unrenewed lease ends
)

// Roles a replica reports on /healthz.
const (
	rolePoller  = "poller"  // holds the poller lease and calls getUpdates
	roleStandby = "standby" // long polling is another replica's; ready to take over
	roleWebhook = "webhook" // takes the updates a load balancer posts to it
)

// replicaState is what /healthz reports of this replica's part.
type replicaState struct {
	role       atomic.Value // string: one of the roles
	leaseUntil atomic.Int64 // Unix nanoseconds the poller lease is ours until; 0 when not held
	renewErr   atomic.Value // string: the last renewal error, "" after a success
}

func (s *replicaState) setRole(r string) { s.role.Store(r) }

func (s *replicaState) roleName() string {
	if r, ok := s.role.Load().(string); ok {
		return r
	}
	return roleStandby
}

// leaseCurrent reports whether every lease this replica acts on is valid at
// now: the poller's lease while it polls; true when it holds none.
func (s *replicaState) leaseCurrent(now time.Time) bool {
	if s.roleName() != rolePoller {
		return true
	}
	return now.UnixNano() < s.leaseUntil.Load()
}

// poll takes updates by long polling while this replica holds the poller
// lease, and stands by while another does, until ctx is done. Each update
// is stored in the inbox, then goes to its chat's lane (take); Run waits
// for the lanes.
func (b *Bot) poll(ctx context.Context) {
	b.replica.setRole(roleStandby)
	for ctx.Err() == nil {
		until, ok, err := b.cfg.Service.AcquireLease(ctx, payments.PollerLease, b.cfg.Replica, pollerLease)
		switch {
		case err != nil && ctx.Err() == nil:
			b.log.Warn("poller lease", "err", err)
		case ok:
			b.lead(ctx, until)
			continue
		}
		if !payments.Sleep(ctx, pollerRetry) {
			return
		}
	}
}

// lead polls, renewing the poller lease, until ctx ends or the lease is
// lost; then it lets the lease go.
func (b *Bot) lead(ctx context.Context, until time.Time) {
	b.log.Info("long polling: this replica is the poller")
	until = b.wallTime(until)
	b.replica.leaseUntil.Store(until.UnixNano())
	b.replica.setRole(rolePoller)
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer stop()
		b.keepLease(pctx, until)
	})
	b.getUpdates(pctx)
	stop()
	wg.Wait()
	b.replica.setRole(roleStandby)
	b.replica.leaseUntil.Store(0)
	rctx, cancel := marking(ctx)
	defer cancel()
	if err := b.cfg.Service.ReleaseLease(rctx, payments.PollerLease, b.cfg.Replica); err != nil {
		b.log.Warn("release the poller lease", "err", err)
	}
	if ctx.Err() == nil {
		b.log.Warn("long polling: this replica lost the poller lease; standing by")
	}
}

// wallTime converts a lease's end, a time on the Service's clock, to the
// real time it comes at. The poller times its lease, and the outbox its
// claims, on the real clock (both work in real time); a test's fake clock
// may stand still or jump, and must neither end a lease early nor keep it
// past its time.
func (b *Bot) wallTime(t time.Time) time.Time { return time.Now().Add(t.Sub(b.clock.Now())) }

// keepLease renews the poller lease every pollerRenew until ctx ends. It
// returns when the lease is lost (another took it) or, renewals failing,
// pollerMargin before it ends: polling must stop before another replica
// may start. until is in real time (wallTime).
func (b *Bot) keepLease(ctx context.Context, until time.Time) {
	for {
		wait := min(pollerRenew, time.Until(until.Add(-pollerMargin)))
		if wait <= 0 || !payments.Sleep(ctx, wait) {
			return
		}
		if time.Now().After(until.Add(-pollerMargin)) {
			return
		}
		next, ok, err := b.cfg.Service.AcquireLease(ctx, payments.PollerLease, b.cfg.Replica, pollerLease)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			b.replica.renewErr.Store(err.Error())
			b.log.Warn("renew the poller lease", "err", err, "until", until)
		case !ok:
			return
		default:
			b.replica.renewErr.Store("")
			until = b.wallTime(next)
			b.replica.leaseUntil.Store(until.UnixNano())
		}
	}
}

// getUpdates long-polls Telegram, stores each batch in the inbox and
// queues its updates in their chats' lanes, until ctx ends. A batch is
// confirmed (by the next call's offset) only once it is stored; one that
// cannot be stored is asked for again.
func (b *Bot) getUpdates(ctx context.Context) {
	var backoff time.Duration
	for ctx.Err() == nil {
		raws, err := b.fetchUpdates(ctx)
		if err == nil {
			err = b.takeBatch(ctx, raws)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
			b.log.Warn("telegram updates: cannot take them", "err", err, "retry_in", backoff)
			if !payments.Sleep(ctx, backoff) {
				return
			}
			continue
		}
		backoff = 0
	}
}

// takeBatch stores a getUpdates batch and queues what this replica is the
// first to take (take), then moves the offset past it. An update that
// cannot be read is logged and confirmed all the same: Telegram would
// send it again and again.
func (b *Bot) takeBatch(ctx context.Context, raws []json.RawMessage) error {
	var ups []*models.Update
	var stored []payments.Update
	last := b.offset
	for _, raw := range raws {
		u, s, err := decode(raw)
		if err != nil {
			var id struct {
				ID int64 `json:"update_id"`
			}
			json.Unmarshal(raw, &id)
			b.log.Warn("telegram sent an update that cannot be read; skipping it", "update", id.ID, "err", err)
			last = max(last, id.ID)
			continue
		}
		ups, stored = append(ups, u), append(stored, s)
		last = max(last, u.ID)
	}
	if err := b.take(ctx, ups, stored); err != nil {
		return err
	}
	b.offset = last
	return nil
}

// fetchUpdates makes one getUpdates call, confirming what was handed out,
// and returns the updates as Telegram sent them.
func (b *Bot) fetchUpdates(ctx context.Context) ([]json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{
		"offset":          b.offset + 1,
		"timeout":         int((b.cfg.PollTimeout - time.Second).Seconds()),
		"allowed_updates": allowedUpdates,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.apiURL+"/bot"+b.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("getUpdates: bad Bot API URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the bot token
		}
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	var env struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d with a body that is not a Bot API answer: %w", resp.StatusCode, err)
	}
	if !env.OK {
		if env.ErrorCode == http.StatusConflict {
			return nil, fmt.Errorf("getUpdates: %w: %s (is a replica on another database, or a webhook, taking this bot's updates?)", tgbot.ErrorConflict, env.Description)
		}
		return nil, fmt.Errorf("getUpdates: %d %s", env.ErrorCode, env.Description)
	}
	return env.Result, nil
}

// allowedUpdates are the updates the bot asks Telegram for.
var allowedUpdates = []string{"message", "callback_query"}

// trimURL is a Bot API base URL without its trailing slash; "" is Telegram's.
func trimURL(u string) string {
	if u == "" {
		return DefaultAPIURL
	}
	return strings.TrimRight(u, "/")
}
