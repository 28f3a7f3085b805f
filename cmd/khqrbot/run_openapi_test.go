package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// TestOpenAPISandboxOptions: in sandbox mode the options openAPI hands
// back (those the sourced Deeplinker client is made from) name the
// simulator, not BAKONG_API_URL.
func TestOpenAPISandboxOptions(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	sb, err := startSandbox("shop@aclb", log)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.stop()
	cfg := &config{Sandbox: true, BakongAPIURL: bakong.DefaultBaseURL, BakongAccountID: "shop@aclb"}
	oa, err := openAPI(context.Background(), cfg, bakong.Options{BaseURL: cfg.BakongAPIURL}, nil, nil, sb, log)
	if err != nil {
		t.Fatal(err)
	}
	defer oa.stop()
	if oa.opts.BaseURL != sb.url || oa.opts.Tokens == nil {
		t.Errorf("sandbox client options: BaseURL %q, tokens %v; want the simulator's %q and its token", oa.opts.BaseURL, oa.opts.Tokens, sb.url)
	}
}
