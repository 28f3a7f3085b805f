package bot

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	line := strings.Repeat("💰", 10) // 20 UTF-16 units
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want []string
	}{
		{"fits", "a\nb", 3, []string{"a\nb"}},
		{"at line breaks", "aa\nbb\ncc", 5, []string{"aa\nbb", "cc"}},
		{"units, not bytes or runes", line + "\n" + line, 40, []string{line, line}},
		{"a long line is clipped", "abcdef\ngh", 4, []string{"abc…", "gh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := split(tc.in, tc.n)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("split(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			for _, p := range got {
				if units(p) > tc.n {
					t.Errorf("part %q is %d units, over %d", p, units(p), tc.n)
				}
			}
		})
	}
}
