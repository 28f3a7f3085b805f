package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// runDeeplink asks Bakong for the short link that opens its app on a KHQR.
func runDeeplink(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "deeplink", "QR [flags]   (QR - reads it from stdin)",
		"Asks Bakong for the deeplink of a KHQR string; no token needed. The app name,\n"+
			"icon and callback go along as sourceInfo.",
		"Exit codes: 0 link printed, 1 Bakong refused the QR, 2 usage or configuration\n"+
			"error, 3 Bakong or network error.")
	si := bakong.SourceInfo{}
	fs.StringVar(&si.AppName, "app-name", "khqrbot", "app `NAME` the Bakong app shows")
	fs.StringVar(&si.AppIconURL, "app-icon-url", "https://github.com/khqrbot.png", "app icon `URL`")
	fs.StringVar(&si.AppDeepLinkCallback, "app-callback", "https://github.com/khqrbot/khqrbot", "`URL` opened after payment, e.g. https://t.me/yourbot")
	api := addAPIFlags(fs, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseExit(err)
	}
	qr, code := qrArg(e, fs, pos)
	if code != exitOK {
		return code
	}
	var empty []string
	for _, f := range []struct{ flag, v string }{{"--app-name", si.AppName}, {"--app-icon-url", si.AppIconURL}, {"--app-callback", si.AppDeepLinkCallback}} {
		if strings.TrimSpace(f.v) == "" {
			empty = append(empty, f.flag)
		}
	}
	if len(empty) > 0 {
		return usageError(fs, "%s: want a value (Bakong needs the app's name, icon and callback together)", strings.Join(empty, ", "))
	}
	c := api.client(e, &si)
	if c == nil {
		return exitUsage
	}
	link, err := c.Deeplink(ctx, qr)
	if err != nil {
		code = errorExit(err)
		var be *bakong.Error
		// errorCode 5: the QR (or sourceInfo) is not one Bakong takes;
		// 2: a static QR, should Bakong refuse those.
		if errors.As(err, &be) && be.Kind == bakong.KindAPI && (be.ErrorCode == 5 || be.ErrorCode == 2) {
			code = exitNo
		}
	}
	if api.json {
		printJSON(e.stdout, struct {
			ShortLink string     `json:"shortLink,omitempty"`
			Error     *errorJSON `json:"error,omitempty"`
		}{link, errJSON(err)})
		return code
	}
	if err != nil {
		printError(e.stdout, "", err)
		return code
	}
	fmt.Fprintln(e.stdout, link)
	return code
}
