package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// runAccount asks Bakong whether an account exists: khqrbot account check ID.
func runAccount(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "account", "check ID [flags]",
		"Asks Bakong whether the account ID (name@bank) exists; no token needed.", exitCodesHelp)
	api := addAPIFlags(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) != 2 || pos[0] != "check" {
		return usageError(fs, "want: account check ID")
	}
	id := pos[1]
	c := api.client(e, nil)
	if c == nil {
		return exitUsage
	}
	exists, err := c.CheckAccount(ctx, id)
	var be *bakong.Error
	invalid := errors.As(err, &be) && be.Kind == bakong.KindAPI && be.ErrorCode == 12
	outcome, code := "exists", exitOK
	switch {
	case invalid:
		outcome, code = "invalid", exitNo
	case err != nil:
		outcome, code = "error", errorExit(err)
	case !exists:
		outcome, code = "not_found", exitNo
	}
	if api.json {
		j := struct {
			AccountID string     `json:"accountId"`
			Outcome   string     `json:"outcome"`
			Exists    bool       `json:"exists"`
			Error     *errorJSON `json:"error,omitempty"`
		}{id, outcome, exists, nil}
		if outcome == "error" || outcome == "invalid" {
			j.Error = errJSON(err)
		}
		printJSON(e.stdout, j)
		return code
	}
	switch outcome {
	case "exists":
		fmt.Fprintf(e.stdout, "EXISTS: %s is a Bakong account\n", id)
	case "not_found":
		fmt.Fprintf(e.stdout, "NOT FOUND: Bakong has no account %s\n", id)
	case "invalid":
		fmt.Fprintf(e.stdout, "INVALID: Bakong says %s is not a valid account ID (want name@bank)\n", id)
	default:
		printError(e.stdout, "", err)
	}
	return code
}
