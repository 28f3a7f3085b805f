// Command khqrbot is the Telegram bot that collects Bakong KHQR payments, and
// the troubleshooting tools that go with it. With no subcommand it runs the bot.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is what a subcommand may touch of the outside world, so tests can run
// commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one subcommand. run returns the process exit code: 0 success,
// 1 a negative answer (not found, invalid), 2 usage or configuration errors,
// 3 and above other failures.
type command struct {
	name  string
	short string
	run   func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"run", "run the bot (the default)", runBot},
		{"qr", "encode, decode, verify a KHQR or render its card", runQR},
		{"check", "ask Bakong about a payment by md5, hash or short hash", runCheck},
		{"token", "Open API token: status, request, verify, renew", runToken},
		{"account", "check that a Bakong account exists", runAccount},
		{"deeplink", "get the bank-app deeplink of a KHQR", runDeeplink},
		{"sim", "run the Bakong Open API simulator", runSim},
		{"doctor", "check configuration, database, Telegram and Bakong", runDoctor},
		{"version", "print the version", runVersion},
		{"help", "list commands, or show one command's flags", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := dispatch(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// dispatch runs the subcommand named by args[0], "run" when there is none.
func dispatch(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help") {
		return runBot(ctx, e, args)
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "khqrbot: unknown command %q\n\n", name)
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: khqrbot [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nWith no command, khqrbot runs the bot. 'khqrbot help CMD' shows a command's flags.")
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: khqrbot version\n\nPrints the version khqrbot was built as.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "khqrbot version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fmt.Fprintln(e.stdout, "khqrbot", buildVersion())
	return 0
}

// buildVersion is the version set at build time, else the module version or
// VCS revision Go recorded, else "dev".
func buildVersion() string {
	if version != "dev" && version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		return "dev-" + rev + dirty
	}
	return "dev"
}

// runHelp lists the commands, or shows one command's help on stdout.
func runHelp(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			out := *e
			out.stderr = e.stdout
			return c.run(ctx, &out, append(args[1:], "-h"))
		}
	}
	fmt.Fprintf(e.stderr, "khqrbot: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}
