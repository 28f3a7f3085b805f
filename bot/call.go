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
	mu    sync.Mutex
	users int
}

func (l *chatLocks) lock(chat int64) func() {
	l.mu.Lock()
	if l.chats == nil {
		l.chats = map[int64]*chatLock{}
	}
	c := l.chats[chat]
	if c == nil {
		c = &chatLock{}
		l.chats[chat] = c
	}
	c.users++
	l.mu.Unlock()
	c.mu.Lock()
	return func() {
		c.mu.Unlock()
		l.mu.Lock()
		if c.users--; c.users == 0 {
			delete(l.chats, chat)
		}
		l.mu.Unlock()
	}
}

// call makes one Bot API call to chat, serialized with the chat's other
// calls. A 429 waits the retry_after Telegram asks for and tries again; fn
// must build its request afresh each time (upload readers are consumed).
func (b *Bot) call(ctx context.Context, chat int64, fn func(ctx context.Context) error) error {
	unlock := b.locks.lock(chat)
	defer unlock()
	for try := 1; ; try++ {
		err := fn(ctx)
		var tmr *tgbot.TooManyRequestsError
		if err == nil || !errors.As(err, &tmr) || try == maxTries {
			return err
		}
		wait := time.Duration(max(tmr.RetryAfter, 1)) * time.Second
		b.log.Info("telegram flood limit; waiting", "chat", chat, "retry_after", wait, "try", try)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
