// Command khqrbot is the Telegram bot that collects Bakong KHQR payments, and
// the troubleshooting tools that go with it. With no subcommand it runs the bot.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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

func runVersion(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stdout, "khqrbot", version)
	return 0
}

func runHelp(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] && c.name != "help" {
			return c.run(ctx, e, append(args[1:], "-h"))
		}
	}
	fmt.Fprintf(e.stderr, "khqrbot: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}
