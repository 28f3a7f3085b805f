package storage

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Version 8 makes the updates table, until then the ids of the Telegram
// updates handled, the inbox (inbox.go): each update is kept, with its
// chat and body, from before Telegram is told it arrived until it is
// handled, and claimed by the replica handling it.

// v8Update is what version 8 adds to the updates table.
type v8Update struct {
	ChatID     int64 `gorm:"not null;default:0"`
	Body       []byte
	ClaimUntil *time.Time
	DoneAt     *time.Time
	Tries      int `gorm:"not null;default:0"`
}

// TableName names the updates table.
func (v8Update) TableName() string { return "updates" }

// keepUpdates turns the ids of handled updates into the inbox. The rows
// already there were handled, or their handling started, before this version,
// which kept no body to handle them again from: they are done. The index
// holds the updates not done, the few that claims and order checks read.
func keepUpdates(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, f := range []string{"ChatID", "Body", "ClaimUntil", "DoneAt", "Tries"} {
		if err := m.AddColumn(&v8Update{}, f); err != nil {
			return fmt.Errorf("add column updates.%s: %w", f, err)
		}
	}
	return execAll(tx,
		"UPDATE updates SET done_at = at, claim_until = at, tries = 1",
		"CREATE INDEX ix_updates_open ON updates (chat_id, update_id) WHERE done_at IS NULL",
	)
}
