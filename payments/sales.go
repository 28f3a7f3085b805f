package payments

import (
	"context"
	"fmt"
	"time"
)

// Sales is what was paid over whole days: totals per currency, by day, and
// how long customers took to pay. /paid and /report read it, so their
// totals agree.
type Sales struct {
	Days       []time.Time     // the start of each day, in the zone asked for; none for a plain tally
	Currencies []CurrencySales // KHR then USD, only those with a payment
	Count      int             // invoices paid
	// TimeToPay is the average time from an invoice's creation to its
	// payment (Bakong's createdDateMs); 0 when nothing was paid.
	TimeToPay time.Duration
}

// CurrencySales is one currency's part of Sales.
type CurrencySales struct {
	Total Money
	Count int
	Daily []int64 // minor units paid on each of Sales.Days
}

// MaxSalesDays bounds the days one Sales covers.
const MaxSalesDays = 366

// Sales sums the invoices paid on the days days from `from` (the start of
// the first day, in the merchant's zone) on, one Sales.Days entry each.
func (s *Service) Sales(ctx context.Context, from time.Time, days int) (*Sales, error) {
	if days < 1 || days > MaxSalesDays {
		return nil, Errorf(EInvalid, "sales over %d days: want 1 to %d", days, MaxSalesDays)
	}
	invs, err := s.store.ListInvoices(ctx, InvoiceFilter{
		Statuses: []InvoiceStatus{InvoicePaid}, PaidRange: true, Since: from, Until: from.AddDate(0, 0, days),
	})
	if err != nil {
		return nil, fmt.Errorf("sales: %w", err)
	}
	return Tally(invs, from, days), nil
}

// Tally sums paid invoices. With days > 0 it also splits the totals by day,
// the days days from `from` on, in from's zone; invoices paid outside
// them still count in the totals.
func Tally(invs []Invoice, from time.Time, days int) *Sales {
	s := &Sales{}
	for i := range max(days, 0) {
		s.Days = append(s.Days, from.AddDate(0, 0, i))
	}
	by := map[Currency]*CurrencySales{}
	var waited time.Duration
	for _, inv := range invs {
		if inv.Status != InvoicePaid {
			continue
		}
		c := by[inv.Amount.Currency]
		if c == nil {
			c = &CurrencySales{Total: Money{Currency: inv.Amount.Currency}, Daily: make([]int64, len(s.Days))}
			by[inv.Amount.Currency] = c
		}
		c.Total.Amount += inv.Amount.Amount
		c.Count++
		s.Count++
		if d := inv.PaidAt.Sub(inv.CreatedAt); d > 0 {
			waited += d
		}
		if i := dayIndex(s.Days, inv.PaidAt); i >= 0 {
			c.Daily[i] += inv.Amount.Amount
		}
	}
	for _, cur := range []Currency{KHR, USD} {
		if c := by[cur]; c != nil {
			s.Currencies = append(s.Currencies, *c)
		}
	}
	if s.Count > 0 {
		s.TimeToPay = waited / time.Duration(s.Count)
	}
	return s
}

// dayIndex is the index of the day t falls on, or -1.
func dayIndex(days []time.Time, t time.Time) int {
	for i := len(days) - 1; i >= 0; i-- {
		if !t.Before(days[i]) {
			if i == len(days)-1 && !t.Before(days[i].AddDate(0, 0, 1)) {
				return -1
			}
			return i
		}
	}
	return -1
}
