package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/khqrbot/khqrbot/storage"
)

// runClearSandbox deletes the sandbox invoices (with their QRs, payments,
// events and messages) from the database DATABASE_URL names, so that the
// bot may run live on it.
func runClearSandbox(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("clear-sandbox", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	yes := fs.Bool("yes", false, "really delete the sandbox data")
	fs.Usage = func() {
		printConfigUsage(fs, "Deletes the sandbox invoices of the database DATABASE_URL names, with their QRs,\n"+
			"simulated payments, events and messages, so that the bot may run live on it. Live\n"+
			"invoices (made after the database's first live QR, with no sandbox QR) stay, and so\n"+
			"do users and settings. Needs --yes.\n\n"+
			"Exit codes: 0 done, 2 usage or configuration error, 3 failed.")
	}
	cfg, err := loadConfig(e.getenv, fs, args, false)
	if err != nil {
		return exitConfig(e.stderr, err)
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	if !*yes {
		return usageError(fs, "this deletes data: run it again with --yes")
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot clear-sandbox: %v\n", err)
		return exitError
	}
	defer db.Close()
	n, err := db.ClearSandbox(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot clear-sandbox: %v\n", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "Deleted %d sandbox invoices (and their QRs, payments and messages) from %s.\n", n, storage.DisplayURL(cfg.DatabaseURL))
	return exitOK
}

// claimMode records the mode the bot runs in (sandbox or live) in the
// database, and refuses a database that served the other: sandbox and
// live data must never mix.
func claimMode(ctx context.Context, store *storage.DB, cfg *config) error {
	mode := storage.ModeLive
	if cfg.Sandbox {
		mode = storage.ModeSandbox
	}
	err := store.ClaimMode(ctx, mode)
	if !errors.Is(err, storage.ErrModeMismatch) {
		return err
	}
	db := storage.DisplayURL(cfg.DatabaseURL)
	if cfg.Sandbox {
		return fmt.Errorf("the database %s holds live data (real payments), and sandbox mode (no BAKONG_TOKEN) would mix simulated invoices and payments into it. "+
			"Set DATABASE_URL to another database for the sandbox", db)
	}
	return fmt.Errorf("the database %s holds %s data: invoices and payments made on the simulator, with no real money. "+
		"Live mode refuses to start on it, or they would count in /paid and their share links would make real QRs. "+
		"Set DATABASE_URL to another database, or run `khqrbot clear-sandbox --yes` to delete the sandbox data from this one", db, storage.ModeSandbox)
}
