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
	"strings"
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
		{"demo", "the whole product in a browser: no Telegram, no Bakong, no network", runDemo},
		{"qr", "encode, decode, verify a KHQR or render its card", runQR},
		{"check", "ask Bakong about a payment by md5, hash or short hash", runCheck},
		{"token", "Open API token: status, request, verify, renew", runToken},
		{"account", "check that a Bakong account exists", runAccount},
		{"deeplink", "get the bank-app deeplink of a KHQR", runDeeplink},
		{"sim", "run the Bakong Open API simulator", runSim},
		{"doctor", "check configuration, database, Telegram and Bakong", runDoctor},
		{"clear-sandbox", "delete sandbox invoices and payments, so the database can run live", runClearSandbox},
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
	return exitUsage
}

// Exit codes shared by every command; each command's help says what its
// own mean.
const (
	exitOK    = 0 // success: found, exists, valid, done
	exitNo    = 1 // a negative answer: not found, invalid, a failed check
	exitUsage = 2 // bad arguments, flags or configuration
	exitError = 3 // anything else failed: Bakong, the network, a file
)

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: khqrbot [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nWith no command, khqrbot runs the bot. 'khqrbot help CMD' shows a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 a negative answer (not found, invalid, a failed check),")
	fmt.Fprintln(w, "2 usage or configuration error, 3 and above other failures.")
}

// newFlags returns the flag set of command name ("check", "token renew").
// Its errors and -h go to e.stderr; -h shows "Usage: khqrbot NAME
// SYNOPSIS", about, the flags and footer (either may be empty).
func newFlags(e *env, name, synopsis, about, footer string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimSpace("Usage: khqrbot "+name+" "+synopsis))
		if about != "" {
			fmt.Fprintf(w, "\n%s\n", about)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
		if footer != "" {
			fmt.Fprintf(w, "\n%s\n", footer)
		}
	}
	return fs
}

// parseArgs parses flags wherever they stand among the positional
// arguments, which it returns; after "--" everything is positional. It
// reports -h as flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs parses the flags of a command that takes no arguments. When
// ok is false the command exits with code: 0 after -h, 2 after a bad flag
// or an argument.
func parseNoArgs(fs *flag.FlagSet, args []string) (code int, ok bool) {
	pos, err := parseArgs(fs, args)
	switch {
	case err != nil:
		return parseExit(err), false
	case len(pos) > 0:
		return usageError(fs, "unexpected argument %q", pos[0]), false
	}
	return exitOK, true
}

// parseExit is the exit code after a parse error: 0 for -h, else 2 (the
// flag package printed the problem and the usage).
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// usageError prints a usage problem and the command's usage, and returns 2.
func usageError(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(fs.Output(), "khqrbot %s: %s\n\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// cmdError prints err as the failure of command fs and returns code.
func cmdError(e *env, fs *flag.FlagSet, code int, err error) int {
	fmt.Fprintf(e.stderr, "khqrbot %s: %v\n", fs.Name(), err)
	return code
}

// subcommand is one subcommand of a command that has them (qr, token).
type subcommand struct {
	name string
	run  func(ctx context.Context, e *env, args []string) int
}

// runSubcommand runs the subcommand args[0] of command name. With none, an
// unknown one or -h it prints usage (on e.stderr, as -h does everywhere):
// exit 0 for -h, else 2.
func runSubcommand(ctx context.Context, e *env, name string, usage func(io.Writer), subs []subcommand, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stderr)
		return exitOK
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "khqrbot %s: unknown subcommand %q\n\n", name, args[0])
	usage(e.stderr)
	return exitUsage
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "version", "", "Prints the version khqrbot was built as.", "")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	fmt.Fprintln(e.stdout, "khqrbot", buildVersion())
	return exitOK
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
		return exitOK
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
	return exitUsage
}
