package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// newLogger returns the logger of cfg's level and format writing to w. Its
// lines never contain the Telegram token, the Bakong token or the webhook
// secret, whatever is logged: see redactHandler.
func newLogger(w io.Writer, cfg *config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(&redactHandler{next: h, r: newRedactor(cfg.TelegramToken, cfg.BakongToken, cfg.WebhookSecret)})
}

// redacted replaces a secret wherever it appears.
const redacted = "[REDACTED]"

// redactor replaces secrets in text. Use it on anything that may quote a
// secret and does not go through the logger: errors printed to a terminal,
// messages to admins.
type redactor struct {
	r *strings.Replacer // nil when there is no secret
}

// newRedactor redacts each non-empty secret, also in its URL-escaped forms
// (a token in a URL path or query). Short secrets are redacted too.
func newRedactor(secrets ...string) *redactor {
	var forms []string
	for _, s := range secrets {
		for _, f := range []string{s, url.PathEscape(s), url.QueryEscape(s)} {
			if f != "" && !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	if len(forms) == 0 {
		return &redactor{}
	}
	// A Replacer tries its pairs in order: longest first, so that a secret
	// that begins with another is replaced whole, not left half shown.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, redacted)
	}
	return &redactor{r: strings.NewReplacer(pairs...)}
}

// String returns s with every secret replaced.
func (r *redactor) String(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// contains reports whether s holds a secret.
func (r *redactor) contains(s string) bool { return r.r != nil && r.r.Replace(s) != s }

// redactHandler wraps a slog.Handler and removes secrets from the message
// and every attribute: strings, errors, fmt.Stringers, any other value whose
// text or JSON form holds a secret, and groups, however deep.
type redactHandler struct {
	next slog.Handler
	r    *redactor
}

// Enabled reports whether the wrapped handler handles level.
func (h *redactHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle redacts the record and passes it on.
func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs before the wrapped handler keeps them.
func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(clean), r: h.r}
}

// WithGroup opens a group on the wrapped handler.
func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(h.r.String(name)), r: h.r}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	a.Key = h.r.String(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		clean := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			clean[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.r.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.r.String(x.String()))
		}
		text := fmt.Sprintf("%+v", v.Any())
		if h.r.contains(text) {
			return slog.String(a.Key, h.r.String(text))
		}
		if b, err := json.Marshal(v.Any()); err == nil && h.r.contains(string(b)) {
			return slog.String(a.Key, h.r.String(string(b)))
		}
		return slog.Attr{Key: a.Key, Value: v}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
