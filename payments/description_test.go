package payments_test

import (
	"testing"

	"github.com/khqrbot/khqrbot/payments"
)

func TestCleanDescription(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"coffee", "coffee"},
		{"  coffee\n✅ Paid\r\n💵 0.01 USD ", "coffee ✅ Paid 💵 0.01 USD"},
		{"a\tb\x00c\x7fd\u0085e", "a b c d e"},
		{"line\u2028para\u2029end", "line para end"},
		{"\u202Eevil\u202C \u2067x\u2069", "evil x"},
		{"ការ\u200Bទូទាត់ 👨\u200D👩\u200D👧", "ការ\u200Bទូទាត់ 👨\u200D👩\u200D👧"}, // zero-width space and joiners stay
		{"\n\t", ""},
	} {
		if got := payments.CleanDescription(tc.in); got != tc.want {
			t.Errorf("CleanDescription(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
