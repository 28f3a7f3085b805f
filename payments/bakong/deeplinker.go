package bakong

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Deeplinker is a Client whose deeplinks carry sourceInfo once it is known.
// The bot's username, which sourceInfo's callback needs, comes from getMe
// when the bot starts: after the payment service was built around this
// client, so the source is set late, through UseSource.
type Deeplinker struct {
	*Client
	sourced atomic.Pointer[Client] // sends sourceInfo; nil until UseSource
}

// Deeplink asks for qr's deeplink, with sourceInfo when it is known.
func (d *Deeplinker) Deeplink(ctx context.Context, qr string) (string, error) {
	if c := d.sourced.Load(); c != nil {
		return c.Deeplink(ctx, qr)
	}
	return d.Client.Deeplink(ctx, qr)
}

// UseSource makes later deeplinks carry si, through a client made from o.
func (d *Deeplinker) UseSource(o Options, si *SourceInfo) error {
	o.SourceInfo = si
	c, err := New(o)
	if err != nil {
		return fmt.Errorf("bakong client with sourceInfo: %w", err)
	}
	d.sourced.Store(c)
	return nil
}
