package bot

import (
	"slices"
	"testing"
)

// TestMenuMatchesCommands: the menu lists every command exactly once, the
// public ones first, so a new command cannot be left out of it.
func TestMenuMatchesCommands(t *testing.T) {
	cmds := (&Bot{}).commands()
	if len(menu) != len(cmds) {
		t.Errorf("menu has %d commands, the router %d", len(menu), len(cmds))
	}
	for i, name := range menu {
		h, ok := cmds[name]
		switch {
		case !ok:
			t.Errorf("menu lists /%s, which the router does not know", name)
		case h.admin != (i >= menuPublic):
			t.Errorf("/%s: admin-only %v, but it is menu item %d and the first %d are public", name, h.admin, i, menuPublic)
		case slices.Index(menu, name) != i:
			t.Errorf("menu lists /%s twice", name)
		}
	}
}
