package payments_test

import (
	"slices"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

func TestTally(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, ict)
	paid := func(amount int64, cur payments.Currency, at time.Time, took time.Duration) payments.Invoice {
		return payments.Invoice{Status: payments.InvoicePaid, Amount: payments.Money{Amount: amount, Currency: cur}, CreatedAt: at.Add(-took), PaidAt: at.UTC()}
	}
	invs := []payments.Invoice{
		paid(500, payments.USD, from.Add(time.Hour), time.Minute),
		paid(250, payments.USD, from.Add(23*time.Hour+59*time.Minute), 3*time.Minute), // 23:59 ICT is still day 1 (16:59 UTC)
		paid(10_000, payments.KHR, from.AddDate(0, 0, 2), 2*time.Minute),              // midnight starts day 3
		paid(4_000, payments.KHR, from.AddDate(0, 0, 3), 2*time.Minute),               // after the days: totals only
		{Status: payments.InvoiceOpen, Amount: payments.Money{Amount: 999, Currency: payments.USD}},
	}
	s := payments.Tally(invs, from, 3)
	if len(s.Days) != 3 || !s.Days[2].Equal(time.Date(2026, 12, 3, 0, 0, 0, 0, ict)) {
		t.Fatalf("days %v", s.Days)
	}
	if s.Count != 4 || s.TimeToPay != 2*time.Minute {
		t.Errorf("count %d, time to pay %v; want 4 and 2m", s.Count, s.TimeToPay)
	}
	if len(s.Currencies) != 2 {
		t.Fatalf("currencies %+v", s.Currencies)
	}
	khr, usd := s.Currencies[0], s.Currencies[1]
	if khr.Total != (payments.Money{Amount: 14_000, Currency: payments.KHR}) || khr.Count != 2 || !slices.Equal(khr.Daily, []int64{0, 0, 10_000}) {
		t.Errorf("KHR %+v", khr)
	}
	if usd.Total != (payments.Money{Amount: 750, Currency: payments.USD}) || usd.Count != 2 || !slices.Equal(usd.Daily, []int64{750, 0, 0}) {
		t.Errorf("USD %+v", usd)
	}
	if plain := payments.Tally(invs, from, 0); len(plain.Days) != 0 || plain.Count != 4 {
		t.Errorf("plain tally %+v", plain)
	}
	if empty := payments.Tally(nil, from, 7); empty.Count != 0 || empty.TimeToPay != 0 || len(empty.Currencies) != 0 || len(empty.Days) != 7 {
		t.Errorf("empty tally %+v", empty)
	}
}
