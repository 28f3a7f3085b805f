package bot

import (
	"errors"
	"fmt"
	"testing"

	tgbot "github.com/go-telegram/bot"
)

// TestErrorKinds: Telegram's answers to an edit are told apart as the
// outbox needs: done, send afresh, retry, or give up.
func TestErrorKinds(t *testing.T) {
	bad := func(desc string) error {
		// As the library wraps them, then as our calls wrap them again.
		return fmt.Errorf("edit: %w", fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, desc))
	}
	tests := []struct {
		name                      string
		err                       error
		notModified, gone, giveUp bool
	}{
		{"not modified", bad("Bad Request: message is not modified: specified new message content and reply markup are exactly the same"), true, false, true},
		{"edit not found", bad("Bad Request: message to edit not found"), false, true, false},
		{"cannot be edited", bad("Bad Request: message can't be edited"), false, true, false},
		{"caption too long", bad("Bad Request: message caption is too long"), false, false, true},
		{"blocked", fmt.Errorf("send: %w", fmt.Errorf("%w, Forbidden: bot was blocked by the user", tgbot.ErrorForbidden)), false, false, true},
		{"group upgraded", fmt.Errorf("send: %w", &tgbot.MigrateError{Message: "Bad Request: group chat was upgraded to a supergroup chat", MigrateToChatID: -1001234567890}), false, false, true},
		{"flood", fmt.Errorf("send: %w", &tgbot.TooManyRequestsError{Message: "Too Many Requests: retry after 7", RetryAfter: 7}), false, false, false},
		{"transport", fmt.Errorf("send: %w", errors.New("connection refused")), false, false, false},
		{"none", nil, false, false, false},
	}
	for _, tt := range tests {
		if got := notModified(tt.err); got != tt.notModified {
			t.Errorf("%s: notModified = %v", tt.name, got)
		}
		if got := messageGone(tt.err); got != tt.gone {
			t.Errorf("%s: messageGone = %v", tt.name, got)
		}
		if got := undeliverable(tt.err); got != tt.giveUp {
			t.Errorf("%s: undeliverable = %v", tt.name, got)
		}
	}
}
