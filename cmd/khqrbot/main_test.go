package main

import (
	"flag"
	"io"
	"slices"
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

// TestEveryCommandHelpAndBadFlag: every command and subcommand shows its
// usage with -h (exit 0, on stderr; on stdout through help) and on an
// unknown flag (exit 2), and its help documents the exit codes.
func TestEveryCommandHelpAndBadFlag(t *testing.T) {
	var cmds [][]string
	for _, c := range commands() {
		switch c.name {
		case "help":
		case "qr":
			for _, s := range []string{"encode", "decode", "verify", "image"} {
				cmds = append(cmds, []string{"qr", s})
			}
		case "token":
			for _, s := range []string{"status", "request", "verify", "renew"} {
				cmds = append(cmds, []string{"token", s})
			}
		default:
			cmds = append(cmds, []string{c.name})
		}
	}
	for _, cmd := range cmds {
		name := strings.Join(cmd, " ")
		t.Run(name, func(t *testing.T) {
			usage := "Usage: khqrbot " + name
			code, out, errOut := runCmd(t, nil, append(cmd, "-h")...)
			if code != 0 || !strings.Contains(errOut, usage) || out != "" {
				t.Errorf("-h: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if name != "version" && !strings.Contains(errOut, "Exit codes: 0 ") {
				t.Errorf("-h does not document the exit codes:\n%s", errOut)
			}
			code, out, _ = runCmd(t, nil, append([]string{"help"}, cmd...)...)
			if code != 0 || !strings.Contains(out, usage) {
				t.Errorf("help %s: exit %d\n%s", name, code, out)
			}
			code, _, errOut = runCmd(t, nil, append(cmd, "--no-such-flag")...)
			if code != 2 || !strings.Contains(errOut, "flag provided but not defined: -no-such-flag") || !strings.Contains(errOut, usage) {
				t.Errorf("unknown flag: exit %d\n%s", code, errOut)
			}
		})
	}
	for _, cmd := range []string{"qr", "token"} {
		code, _, errOut := runCmd(t, nil, cmd, "frob")
		if code != 2 || !strings.Contains(errOut, `unknown subcommand "frob"`) || !strings.Contains(errOut, "Usage: khqrbot "+cmd+" ") {
			t.Errorf("%s frob: exit %d\n%s", cmd, code, errOut)
		}
		if code, _, errOut := runCmd(t, nil, cmd); code != 2 || !strings.Contains(errOut, "Usage: khqrbot "+cmd+" ") {
			t.Errorf("%s alone: exit %d\n%s", cmd, code, errOut)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		pos  []string
		v    bool
	}{
		{[]string{"a", "-v", "b"}, []string{"a", "b"}, true},
		{[]string{"-v", "a"}, []string{"a"}, true},
		{[]string{"a", "--", "-v", "-x"}, []string{"a", "-v", "-x"}, false},
		{[]string{"-", "-v"}, []string{"-"}, true},
		{nil, nil, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		v := fs.Bool("v", false, "")
		pos, err := parseArgs(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.pos) || *v != tt.v {
			t.Errorf("parseArgs(%q) = %q, v=%v, %v; want %q, v=%v", tt.args, pos, *v, err, tt.pos, tt.v)
		}
	}
}
