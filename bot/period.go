package bot

import (
	"strings"
	"time"
)

// period is a span /paid and /export report on.
type period struct {
	name  string // "today", "7d", "30d", "all"
	since time.Time
}

// parsePeriod reads today|7d|30d|all (def when empty); days start at
// midnight in the bot's time zone.
func (b *Bot) parsePeriod(s, def string) (period, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		s = def
	}
	now := b.clock.Now().In(b.loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, b.loc)
	switch s {
	case "today":
		return period{s, midnight}, true
	case "7d":
		return period{s, midnight.AddDate(0, 0, -6)}, true
	case "30d":
		return period{s, midnight.AddDate(0, 0, -29)}, true
	case "all":
		return period{s, time.Time{}}, true
	}
	return period{}, false
}
