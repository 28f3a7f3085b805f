package main

import (
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

func TestDeeplinkCommand(t *testing.T) {
	ts := newToolSim(t)
	qr := ts.paid.String
	bad := qr[:len(qr)-1] + "0"
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"link", []string{"deeplink", qr}, "", 0, "https://"},
		{"stdin", []string{"deeplink", "-"}, qr + "\n", 0, "https://"},
		{"json", []string{"deeplink", "--json", qr}, "", 0, `"shortLink": "https://`},
		{"bad CRC", []string{"deeplink", bad}, "", 1, "Missing required fields"},
		{"empty source info", []string{"deeplink", "--app-name", "", "--app-callback", " ", qr}, "", 2, "--app-name, --app-callback: want a value"},
		{"no QR", []string{"deeplink"}, "", 2, "want one KHQR string"},
		{"empty stdin", []string{"deeplink", "-"}, "", 2, "no QR on stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, ts.vars, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d and %q\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
	calls := ts.sim.Calls()
	for _, f := range []string{`"appName":"khqrbot"`, `"appIconUrl":"https://github.com/khqrbot.png"`, `"appDeepLinkCallback":"https://github.com/khqrbot/khqrbot"`} {
		if !strings.Contains(calls[0].Body, f) {
			t.Errorf("body %s lacks %s", calls[0].Body, f)
		}
	}
	ts.sim.SetFault("generate_deeplink_by_qr", sim.Fault{GeoBlock: true})
	if code, out, _ := runTool(t, ts.vars, "", "deeplink", qr); code != 3 || !strings.Contains(out, "Cambodia") {
		t.Fatalf("geo-blocked: exit %d %s", code, out)
	}
}
