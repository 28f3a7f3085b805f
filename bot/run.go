package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
)

// Run takes updates (long polling, or the webhook when WebhookURL is set),
// and those other replicas left in the inbox, delivers the outbox and
// serves /healthz until ctx is done. Then it stops taking updates, runs
// those it holds, and returns; edits not yet delivered stay in the outbox
// for the next run.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.whoAmI(ctx); err != nil {
		return err
	}
	if b.cfg.Started != nil {
		b.cfg.Started(b.username)
	}
	b.setMenus(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before wg.Wait: ends the server and consumer on early returns
	served, err := b.serveHTTP(ctx, &wg)
	if err != nil {
		return err
	}
	if err := b.setUpdateMode(ctx); err != nil {
		return err
	}

	wg.Go(func() { b.consume(ctx) })
	// Claims are renewed until the lanes are empty, after ctx ends.
	kctx, keep := context.WithCancel(context.WithoutCancel(ctx))
	var kept, swept sync.WaitGroup
	kept.Go(func() { b.keepClaims(kctx) })
	swept.Go(func() { b.sweep(ctx) })
	if b.cfg.WebhookURL != "" {
		b.replica.setRole(roleWebhook)
		<-ctx.Done()
	} else {
		b.poll(ctx)
	}
	swept.Wait()
	<-served       // no webhook post queues more
	b.lanes.stop() // the updates taken are all handled
	keep()
	kept.Wait()
	cancel()
	wg.Wait()
	b.log.Info("bot stopped")
	return nil
}

// whoAmI learns the bot's username (commands may be addressed to it), trying
// again while Telegram cannot be reached; a rejected token is final.
func (b *Bot) whoAmI(ctx context.Context) error {
	wait := time.Second
	for {
		me, err := b.tg.GetMe(ctx)
		if err == nil {
			b.username = me.Username
			b.log.Info("telegram bot", "username", me.Username, "id", me.ID)
			return nil
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
			return errors.New("telegram rejected the bot token (getMe answered unauthorized); check TELEGRAM_BOT_TOKEN")
		}
		b.log.Warn("telegram getMe failed; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("telegram getMe: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// setUpdateMode registers the webhook with its secret, or removes any
// webhook so that long polling is allowed.
func (b *Bot) setUpdateMode(ctx context.Context) error {
	if b.cfg.WebhookURL == "" {
		// Not fatal: a Bot API server without webhooks may not know the method,
		// and a webhook really left set shows up as getUpdates conflicts.
		if _, err := b.tg.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
			b.log.Warn("telegram deleteWebhook failed; long polling anyway", "err", err)
		}
		return nil
	}
	_, err := b.tg.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL:            b.cfg.WebhookURL,
		SecretToken:    b.cfg.WebhookSecret,
		AllowedUpdates: allowedUpdates,
	})
	if err != nil {
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	return nil
}
