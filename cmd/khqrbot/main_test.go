package main

import (
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"help lists commands", []string{"help"}, 0,
			[]string{"Usage: khqrbot [command] [flags]", "run ", "qr ", "check ", "token ", "account ", "deeplink ", "sim ", "doctor ", "version ", "help "}, nil},
		{"-h is help", []string{"-h"}, 0, []string{"Commands:"}, nil},
		{"--help is help", []string{"--help"}, 0, []string{"Commands:"}, nil},
		{"help help", []string{"help", "help"}, 0, []string{"Commands:"}, nil},
		{"help version", []string{"help", "version"}, 0, []string{"Usage: khqrbot version"}, nil},
		{"version -h", []string{"version", "-h"}, 0, nil, []string{"Usage: khqrbot version"}},
		{"help unknown", []string{"help", "nope"}, 2, nil, []string{`unknown command "nope"`, "Commands:"}},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "Usage: khqrbot"}},
		{"version", []string{"version"}, 0, []string{"khqrbot "}, nil},
		{"version extra", []string{"version", "x"}, 2, nil, []string{"unexpected argument"}},
		{"run without token", []string{"run"}, 2, nil, []string{"TELEGRAM_BOT_TOKEN is not set: want the bot token from @BotFather"}},
		{"no command means run", []string{}, 2, nil, []string{"TELEGRAM_BOT_TOKEN is not set"}},
		{"run unknown flag", []string{"run", "--bogus"}, 2, nil, []string{"flag provided but not defined: -bogus"}},
		{"top-level flag goes to run", []string{"--bogus"}, 2, nil, []string{"flag provided but not defined: -bogus"}},
		{"help run", []string{"help", "run"}, 0, []string{"Usage: khqrbot run [flags]", "TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET"}, nil},
		{"version unknown flag", []string{"version", "--json"}, 2, nil, []string{"flag provided but not defined: -json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestBuildVersion(t *testing.T) {
	old := version
	defer func() { version = old }()
	version = "v1.2.3"
	if got := buildVersion(); got != "v1.2.3" {
		t.Errorf("buildVersion = %q", got)
	}
	version = "dev"
	if got := buildVersion(); !strings.HasPrefix(got, "dev") && !strings.HasPrefix(got, "v") {
		t.Errorf("fallback version %q", got)
	}
}
