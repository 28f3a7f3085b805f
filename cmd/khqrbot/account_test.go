package main

import (
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

func TestAccountCommand(t *testing.T) {
	ts := newToolSim(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"exists", []string{"account", "check", "dave@devb"}, 0, "EXISTS"},
		{"QR receiver exists", []string{"account", "check", "shop@devb"}, 0, "EXISTS"},
		{"not found", []string{"account", "check", "dope@devb"}, 1, "NOT FOUND"},
		{"invalid by Bakong", []string{"account", "check", "do pe@devb"}, 1, "INVALID"},
		{"invalid locally", []string{"account", "check", "dope"}, 2, "name@bank"},
		{"json", []string{"account", "check", "dope@devb", "--json"}, 1, `"outcome": "not_found"`},
		{"no id", []string{"account", "check"}, 2, "want: account check ID"},
		{"no check", []string{"account", "dave@devb"}, 2, "want: account check ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, ts.vars, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d and %q\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
	ts.sim.SetFault("check_bakong_account", sim.Fault{Status: 504})
	if code, out, _ := runTool(t, ts.vars, "", "account", "check", "dave@devb"); code != 3 || !strings.Contains(out, "ERROR") {
		t.Fatalf("outage: exit %d %s", code, out)
	}
}
