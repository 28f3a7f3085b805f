package bot

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/khqrbot/khqrbot/locales"
)

// TestHelpListsEveryCommand: an admin's /help names every command the bot
// answers, in both languages, and gives each the usage README.md shows; the
// README lists every command too.
func TestHelpListsEveryCommand(t *testing.T) {
	cmds := (&Bot{}).commands()
	help := map[string]string{}
	for _, lang := range locales.Languages {
		p := locales.New(lang)
		help[lang] = p.T("help.all") + "\n" + p.T("help.admin")
		for name := range cmds {
			if !strings.Contains(help[lang], "/"+name) {
				t.Errorf("%s /help does not mention /%s", lang, name)
			}
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `(/[a-z]+)([^`]*)` \\|").FindAllStringSubmatch(string(readme), -1)
	listed := map[string]bool{}
	for _, r := range rows {
		name, usage := r[1], strings.ReplaceAll(r[1]+r[2], `\|`, "|")
		listed[strings.TrimPrefix(name, "/")] = true
		if !strings.Contains(help[locales.English], usage+" — ") {
			t.Errorf("README shows %q, which the English /help does not", usage)
		}
	}
	for name := range cmds {
		if !listed[name] {
			t.Errorf("README.md does not list /%s", name)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 200, "short"},
		{"abcdef", 6, "abcdef"},
		{"abcdef", 5, "abcd…"},
		{"ខ្មែរខ្មែរ", 4, "ខ្ម…"},
		{"🧋🧋🧋", 5, "🧋🧋…"},
		{"🧋🧋🧋", 4, "🧋…"},
	}
	for _, tt := range tests {
		got := clip(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if n := len(utf16.Encode([]rune(got))); n > tt.n {
			t.Errorf("clip(%q, %d) is %d units long", tt.in, tt.n, n)
		}
	}
}
