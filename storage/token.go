package storage

import "context"

// tokenSetting is where a renewed Open API token is kept, so it outlives
// the BAKONG_TOKEN it replaced.
const tokenSetting = "bakong.token"

// LoadToken returns the renewed Open API token kept in the settings, or "".
// With SaveToken it makes DB a bakong.TokenStore.
func (d *DB) LoadToken(ctx context.Context) (string, error) {
	return d.Setting(ctx, tokenSetting)
}

// SaveToken keeps a renewed Open API token in the settings.
func (d *DB) SaveToken(ctx context.Context, tok string) error {
	return d.SetSetting(ctx, tokenSetting, tok)
}
