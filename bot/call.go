package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
)

// chatLocks serializes the calls made to one chat, so edits arrive in order
// and one chat's flood limit does not stall the others.
type chatLocks struct {
	mu    sync.Mutex
	chats map[int64]*chatLock
}

type chatLock struct {
	held  chan struct{} // holds a value while locked: a mutex a context can abandon
	users int
}

// lock locks chat's calls, or gives up when ctx ends first.
func (l *chatLocks) lock(ctx context.Context, chat int64) (func(), error) {
	l.mu.Lock()
	if l.chats == nil {
		l.chats = map[int64]*chatLock{}
	}
	c := l.chats[chat]
	if c == nil {
		c = &chatLock{held: make(chan struct{}, 1)}
		l.chats[chat] = c
	}
	c.users++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		if c.users--; c.users == 0 {
			delete(l.chats, chat)
		}
		l.mu.Unlock()
	}
	select {
	case c.held <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	return func() {
		<-c.held
		leave()
	}, nil
}

// call makes one Bot API call to chat, serialized with the chat's other
// calls. A 429 waits the retry_after Telegram asks for and tries again; fn
// must build its request afresh each time (upload readers are consumed).
// While it waits, the handler gives up its slot (see lanes), so a chat in
// flood-wait holds up nobody but itself.
func (b *Bot) call(ctx context.Context, chat int64, fn func(ctx context.Context) error) error {
	unlock, err := b.locks.lock(ctx, chat)
	if err != nil {
		return err
	}
	defer unlock()
	for try := 1; ; try++ {
		err := fn(ctx)
		var tmr *tgbot.TooManyRequestsError
		if err == nil || !errors.As(err, &tmr) || try == maxTries {
			return err
		}
		wait := time.Duration(max(tmr.RetryAfter, 1)) * time.Second
		b.log.Info("telegram flood limit; waiting", "chat", chat, "retry_after", wait, "try", try)
		if !idle(ctx, wait) {
			return err
		}
	}
}

// idle waits d, or until ctx ends or the bot stops (then false), without
// holding a handler slot.
func idle(ctx context.Context, d time.Duration) bool {
	s, _ := ctx.Value(slotKey{}).(*lanes)
	var stopping <-chan struct{}
	if s != nil {
		<-s.slots
		stopping = s.stopping
	}
	t := time.NewTimer(d)
	defer t.Stop()
	var ok bool
	select {
	case <-ctx.Done():
	case <-stopping: // shutting down: a flood-limited reply is dropped, not waited for
	case <-t.C:
		ok = true
	}
	if s != nil {
		s.slots <- struct{}{} // taken back even when ctx ended: the handler returns through it
	}
	return ok
}

// slotKey marks a handler's context: it holds one of its lanes' slots.
type slotKey struct{}

// lanes runs updates one chat at a time, in order within a chat, and at
// most `slots` handlers at once across chats. Telegram's update workers
// only queue an update in its chat's lane, so one chat (a stranger's spam,
// a chat in flood-wait) delays nothing but its own lane.
type lanes struct {
	slots    chan struct{} // a value per running handler
	stopping chan struct{} // closed by stop
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu    sync.Mutex
	chats map[int64][]func(context.Context) // queued work per chat; present while its lane runs
}

// laneMax bounds the updates one chat may have waiting; more are dropped
// (and logged): a flood of them is abuse, and each would be answered late.
const laneMax = 100

func newLanes(n int) *lanes {
	return &lanes{slots: make(chan struct{}, n), stopping: make(chan struct{}), chats: map[int64][]func(context.Context){}}
}

// add queues fn in chat's lane; false when the lane is full.
func (l *lanes) add(chat int64, fn func(context.Context)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	q, running := l.chats[chat]
	if len(q) >= laneMax {
		return false
	}
	l.chats[chat] = append(q, fn)
	if !running {
		l.wg.Go(func() { l.drain(chat) })
	}
	return true
}

// drain runs chat's lane until it is empty, each piece of work in a slot.
func (l *lanes) drain(chat int64) {
	for {
		l.mu.Lock()
		q := l.chats[chat]
		if len(q) == 0 {
			delete(l.chats, chat)
			l.mu.Unlock()
			return
		}
		fn := q[0]
		l.chats[chat] = q[1:]
		l.mu.Unlock()
		l.slots <- struct{}{}
		fn(context.WithValue(context.Background(), slotKey{}, l))
		<-l.slots
	}
}

// stop tells handlers not to wait out flood limits any more, then returns
// once every lane is empty: the updates taken are handled, quickly.
func (l *lanes) stop() {
	l.stopOnce.Do(func() { close(l.stopping) })
	l.wg.Wait()
}
