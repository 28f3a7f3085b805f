package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// runDeeplink asks Bakong for the short link that opens its app on a KHQR.
func runDeeplink(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("deeplink", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	si := bakong.SourceInfo{}
	fs.StringVar(&si.AppName, "app-name", "khqrbot", "app `NAME` the Bakong app shows")
	fs.StringVar(&si.AppIconURL, "app-icon-url", "https://github.com/khqrbot.png", "app icon `URL`")
	fs.StringVar(&si.AppDeepLinkCallback, "app-callback", "https://github.com/khqrbot/khqrbot", "`URL` opened after payment, e.g. https://t.me/yourbot")
	api := addAPIFlags(fs, false)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: khqrbot deeplink QR [flags]   (QR - reads it from stdin)")
		fmt.Fprintln(w, "\nAsks Bakong for the deeplink of a KHQR string; no token needed. The app name,")
		fmt.Fprintln(w, "icon and callback go along as sourceInfo.")
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintln(w, "\nExit codes: 0 link printed, 1 Bakong refused the QR, 2 usage error, 3 Bakong or network error.")
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(pos) != 1 {
		return usageError(fs, "give one KHQR string, or - to read it from stdin")
	}
	qr := pos[0]
	if qr == "-" {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return usageError(fs, "no QR on stdin")
		}
		qr = strings.TrimSpace(line)
	}
	if err := si.Validate(); err != nil {
		return usageError(fs, "%v", err)
	}
	c, err := api.client(e, &si)
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot deeplink: %v\n", err)
		return exitUsage
	}
	link, err := c.Deeplink(ctx, qr)
	code := exitOK
	switch {
	case bakong.IsKind(err, bakong.KindAPI):
		code = exitNo
	case err != nil:
		code = errorExit(err)
	}
	if api.json {
		printJSON(e.stdout, struct {
			ShortLink string     `json:"shortLink,omitempty"`
			Error     *errorJSON `json:"error,omitempty"`
		}{link, errJSON(err)})
		return code
	}
	if err != nil {
		fmt.Fprintf(e.stdout, "ERROR: %v\n", err)
		if h := hint(err); h != "" {
			fmt.Fprintf(e.stdout, "  %s\n", h)
		}
		return code
	}
	fmt.Fprintln(e.stdout, link)
	return code
}
