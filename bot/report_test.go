package bot_test

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/imagetest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card"
)

var update = flag.Bool("update", false, "rewrite the golden /report images in testdata")

// reportNow is the seeded shop's now: Friday 4 December 2026, 15:00 in Phnom Penh.
var reportNow = time.Date(2026, 12, 4, 15, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// seedSales stores paid invoices over the days before reportNow, with an
// open and a cancelled one that no total counts.
func seedSales(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	sales := []struct {
		daysAgo int
		at      string // paid at, ICT
		amount  payments.Money
		took    time.Duration // from creation to payment
	}{
		{0, "09:15", payments.Money{Amount: 250, Currency: payments.USD}, 40 * time.Second},
		{0, "12:40", payments.Money{Amount: 20_000, Currency: payments.KHR}, 90 * time.Second},
		{0, "14:59", payments.Money{Amount: 1_000, Currency: payments.USD}, 30 * time.Second},
		{1, "18:05", payments.Money{Amount: 45_000, Currency: payments.KHR}, 2 * time.Minute},
		{2, "08:00", payments.Money{Amount: 550, Currency: payments.USD}, 50 * time.Second},
		{2, "23:59", payments.Money{Amount: 12_000, Currency: payments.KHR}, time.Minute},
		{4, "10:30", payments.Money{Amount: 60_000, Currency: payments.KHR}, 3 * time.Minute},
		{4, "11:00", payments.Money{Amount: 1_800, Currency: payments.USD}, 20 * time.Second},
		{6, "00:00", payments.Money{Amount: 5_000, Currency: payments.KHR}, time.Minute}, // the first minute of the week
		{7, "23:59", payments.Money{Amount: 9_900, Currency: payments.USD}, time.Minute}, // a day too early for 7d
	}
	for _, s := range sales {
		hm, err := time.Parse("15:04", s.at)
		if err != nil {
			t.Fatal(err)
		}
		day := reportNow.AddDate(0, 0, -s.daysAgo)
		paidAt := time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, reportNow.Location())
		inv := &payments.Invoice{Token: "tok" + paidAt.Format("0201150405"), Kind: payments.KindPay, Amount: s.amount, Description: "sale",
			Status: payments.InvoiceOpen, CreatedBy: admin, ChatID: admin, CreatedAt: paidAt.Add(-s.took)}
		if err := h.store.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		if ok, err := h.store.SetInvoiceStatus(ctx, inv.ID, []payments.InvoiceStatus{payments.InvoiceOpen}, payments.InvoicePaid, 0, paidAt); !ok || err != nil {
			t.Fatalf("pay %s: %v %v", inv.Number, ok, err)
		}
	}
	for _, st := range []payments.InvoiceStatus{payments.InvoiceOpen, payments.InvoiceCancelled} {
		inv := &payments.Invoice{Token: "tok-" + string(st), Kind: payments.KindPay, Amount: payments.Money{Amount: 777, Currency: payments.USD},
			Status: st, CreatedBy: admin, ChatID: admin, CreatedAt: reportNow.Add(-time.Hour)}
		if err := h.store.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
}

// totals returns the "Total: …" lines of a message.
func totals(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "Total:") || strings.HasPrefix(l, "សរុប៖") {
			out = append(out, l)
		}
	}
	return out
}

// TestReport: /report on a seeded database sends a phone-sized PNG chart
// (kept as a golden image: run with -update after a deliberate change, and
// look at it) whose caption carries the same totals as /paid, the count
// of payments and the average time to pay.
func TestReport(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, start: reportNow, noPolling: true})
	seedSales(t, h)

	h.tg.SendText(admin, admin, "/paid 7d")
	paid := h.waitText(admin, "Paid — the last 7 days")
	want := totals(paid.Text)
	if len(want) != 2 || want[0] != "Total: 142,000 KHR in 5 invoices" || want[1] != "Total: 36.00 USD in 4 invoices" {
		t.Fatalf("/paid 7d totals %q", want)
	}

	h.tg.SendText(admin, admin, "/report")
	m := h.waitNthPhoto(admin, 1)
	if got := totals(m.Caption); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("/report totals %q, want those of /paid: %q", got, want)
	}
	// (40+90+30+120+50+60+180+20+60 s) / 9 = 72.2 s
	if !strings.Contains(m.Caption, "Sales — the last 7 days") || !strings.Contains(m.Caption, "9 payments · average time to pay 1 min 12 s") {
		t.Errorf("/report caption %q", m.Caption)
	}
	checkChart(t, m.Photo, "report-7d-en.png")

	h.tg.SendText(admin, admin, "/lang km")
	h.waitText(admin, "ខ្មែរ")
	h.tg.SendText(admin, admin, "/report month")
	km := h.waitNthPhoto(admin, 2)
	if !strings.Contains(km.Caption, "ការលក់ — ខែនេះ") || len(totals(km.Caption)) != 2 {
		t.Errorf("/report month in Khmer: caption %q", km.Caption)
	}
	checkChart(t, km.Photo, "report-month-km.png")

	h.tg.SendText(admin, admin, "/lang en")
	h.waitText(admin, "English")
	h.tg.SendText(admin, admin, "/report 1y")
	h.waitText(admin, "Usage: /report [7d|30d|month]")
	h.tg.SendText(stranger, stranger, "/report")
	h.waitText(stranger, "only this shop's admins")
	h.fake.Advance(40 * 24 * time.Hour)
	h.tg.SendText(admin, admin, "/report 30d")
	h.waitText(admin, "Nothing was paid — the last 30 days.")
}

// checkChart checks that b is a PNG of the chart's size that matches the
// golden image testdata/name.
func checkChart(t *testing.T, b []byte, name string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: the photo is no PNG: %v", name, err)
	}
	if sz := img.Bounds().Size(); sz.X != card.ChartWidth || sz.Y != card.ChartHeight {
		t.Errorf("%s: %v, want %dx%d", name, sz, card.ChartWidth, card.ChartHeight)
	}
	imagetest.Golden(t, filepath.Join("testdata", name), b, *update)
}
