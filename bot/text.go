package bot

import (
	"strings"
	"unicode/utf16"

	"github.com/khqrbot/khqrbot/payments"
)

// Telegram's limits and ours on text, in UTF-16 code units as Telegram
// counts them: an emoji outside the Basic Multilingual Plane counts two.
// Telegram refuses a whole message that is over its limit.
const (
	maxText     = 4096 // a message's text
	maxCaption  = 1024 // a photo's or a document's caption
	maxAnswer   = 200  // a button answer's text
	maxQuote    = 64   // what a user typed, quoted back in an answer
	maxListNote = 48   // an invoice's note in a list such as /pending
)

// units is the length of s in UTF-16 code units.
func units(s string) int { return len(utf16.Encode([]rune(s))) }

// clip shortens s to at most n UTF-16 code units, ending it with "…" when
// it cuts.
func clip(s string, n int) string {
	if units(s) <= n {
		return s
	}
	used := 1 // the ellipsis
	for i, r := range s {
		if used += utf16.RuneLen(r); used > n {
			return s[:i] + "…"
		}
	}
	return s
}

// quote is what a user typed, as an answer quotes it: on one line, and
// short, so that a 4,000-character argument cannot make the answer too long
// to send.
func quote(s string) string { return clip(payments.CleanDescription(s), maxQuote) }

// note is an invoice's description on one line of a caption or message
// (descriptions stored before they were cleaned may hold newlines).
func note(s string) string { return payments.CleanDescription(s) }

// listNote is an invoice's description shortened for a line of a list.
func listNote(s string) string { return clip(note(s), maxListNote) }

// split cuts s into parts of at most n UTF-16 code units, at line breaks
// where it can; a line longer than n is clipped.
func split(s string, n int) []string {
	if units(s) <= n {
		return []string{s}
	}
	var parts []string
	var cur strings.Builder
	size := 0
	for _, line := range strings.Split(s, "\n") {
		line = clip(line, n)
		u := units(line)
		if size > 0 && size+1+u > n {
			parts = append(parts, cur.String())
			cur.Reset()
			size = 0
		}
		if size > 0 {
			cur.WriteByte('\n')
			size++
		}
		cur.WriteString(line)
		size += u
	}
	return append(parts, cur.String())
}
