package bot

import (
	"context"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card"
)

// reportSpan reads /report's argument: 7d (the default), 30d or month
// (this calendar month so far). It returns the period's name, the start of
// its first day in the bot's zone and how many days it has, today included.
func (b *Bot) reportSpan(arg string) (name string, from time.Time, days int, ok bool) {
	name = strings.ToLower(strings.TrimSpace(arg))
	now := b.clock.Now().In(b.loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, b.loc)
	switch name {
	case "", "7d":
		return "7d", today.AddDate(0, 0, -6), 7, true
	case "30d":
		return name, today.AddDate(0, 0, -29), 30, true
	case "month":
		return name, today.AddDate(0, 0, 1-now.Day()), now.Day(), true
	}
	return "", time.Time{}, 0, false
}

// cmdReport sends a chart of the daily settled totals of a period, in the
// admin's language, with the totals, the number of payments and the
// average time to pay in its caption as text.
func (b *Bot) cmdReport(ctx context.Context, r *req, args string) {
	name, from, days, ok := b.reportSpan(args)
	if !ok {
		b.reply(ctx, r.chat, r.p.T("report.usage"), nil)
		return
	}
	sales, err := b.cfg.Service.Sales(ctx, from, days)
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	period := r.p.T("period." + name)
	if sales.Count == 0 {
		b.reply(ctx, r.chat, r.p.T("paid.none", period), nil)
		return
	}
	png, err := card.RenderChart(salesChart(r.p, sales, period))
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	caption := append([]string{"📊 " + r.p.T("report.title", period)}, totalLines(r.p, sales)...)
	caption = append(caption, r.p.T("report.summary", sales.Count, payTime(r.p, sales.TimeToPay)))
	file := "sales-" + name + "-" + from.AddDate(0, 0, days-1).Format(time.DateOnly) + ".png"
	if _, err := b.sendPhoto(ctx, r.chat, png, file, strings.Join(caption, "\n"), nil); err != nil {
		b.log.Warn("telegram sendPhoto", "chat", r.chat, "err", err)
	}
}

// salesChart lays s out as a chart in p's language.
func salesChart(p *locales.Printer, s *payments.Sales, period string) card.Chart {
	first, last := s.Days[0], s.Days[len(s.Days)-1]
	c := card.Chart{
		Title:    p.T("report.title", period),
		Subtitle: p.T("report.range", card.Day(p.Lang(), first), card.Day(p.Lang(), last)),
		Days:     s.Days,
		Footer:   []string{p.T("report.count", s.Count), p.T("report.avg", payTime(p, s.TimeToPay))},
		Lang:     p.Lang(),
	}
	for _, cs := range s.Currencies {
		c.Series = append(c.Series, card.Series{
			Currency: string(cs.Total.Currency),
			Heading:  p.T("report.heading", p.T("card."+strings.ToLower(string(cs.Total.Currency))), cs.Total.String()),
			Daily:    cs.Daily,
		})
	}
	return c
}

// payTime writes how long paying took, to the second under an hour.
func payTime(p *locales.Printer, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return p.T("dur.sec", int(d/time.Second))
	case d < time.Hour:
		return p.T("dur.minsec", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return ago(p, d)
}
