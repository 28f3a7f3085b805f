package storage

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

func TestPaymentByID(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		p := testPayment(q, 1)
		if err := d.CreatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := d.Payment(ctx, p.ID)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("Payment(%d): %+v, %v\nwant %+v", p.ID, got, err, p)
		}
		_, err = d.Payment(ctx, 99)
		wantCode(t, err, payments.ENotFound)
	})
}

func TestSetPaymentStatus(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		p := testPayment(q, 1)
		p.Status, p.Reason = payments.PaymentReview, "amount 4.00 USD, expected 5.00 USD"
		bare := testPayment(q, 2)
		bare.Status = payments.PaymentReview
		for _, x := range []*payments.Payment{p, bare} {
			if err := d.CreatePayment(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		review := []payments.PaymentStatus{payments.PaymentReview}
		at := t0.Add(time.Hour)
		tests := []struct {
			name   string
			id     int64
			from   []payments.PaymentStatus
			to     payments.PaymentStatus
			note   string
			at     time.Time
			ok     bool
			code   string
			want   payments.PaymentStatus
			reason string
		}{
			{"review to settled", p.ID, review, payments.PaymentSettled, "accepted by 7", at, true, "", payments.PaymentSettled,
				"amount 4.00 USD, expected 5.00 USD; accepted by 7 at 2025-03-14 03:26:53Z"},
			{"decided once", p.ID, review, payments.PaymentRejected, "rejected by 8", at, false, "", payments.PaymentSettled,
				"amount 4.00 USD, expected 5.00 USD; accepted by 7 at 2025-03-14 03:26:53Z"},
			{"no reason yet, store's clock", bare.ID, review, payments.PaymentRejected, " rejected by 8 ", time.Time{}, true, "", payments.PaymentRejected,
				"rejected by 8 at 2025-03-14 02:26:53Z"},
			{"no note keeps the reason", bare.ID, []payments.PaymentStatus{payments.PaymentRejected}, payments.PaymentReview, "", at, true, "", payments.PaymentReview,
				"rejected by 8 at 2025-03-14 02:26:53Z"},
			{"missing", 99, review, payments.PaymentSettled, "x", at, false, payments.ENotFound, "", ""},
			{"no from", p.ID, nil, payments.PaymentRejected, "x", at, false, payments.EInvalid, payments.PaymentSettled,
				"amount 4.00 USD, expected 5.00 USD; accepted by 7 at 2025-03-14 03:26:53Z"},
		}
		for _, tt := range tests {
			ok, err := d.SetPaymentStatus(ctx, tt.id, tt.from, tt.to, tt.note, tt.at)
			if ok != tt.ok || payments.ErrorCode(err) != tt.code {
				t.Errorf("%s: %v, %v; want %v, code %q", tt.name, ok, err, tt.ok, tt.code)
			}
			if tt.want == "" {
				continue
			}
			got, err := d.Payment(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want || got.Reason != tt.reason {
				t.Errorf("%s: payment %s %q; want %s %q", tt.name, got.Status, got.Reason, tt.want, tt.reason)
			}
		}
	})
}

// TestDecidePaymentOnce races 20 goroutines, half accepting and half
// rejecting one payment in review: exactly one decides.
func TestDecidePaymentOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		p := testPayment(q, 1)
		p.Status = payments.PaymentReview
		if err := d.CreatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			to := payments.PaymentSettled
			if i%2 == 1 {
				to = payments.PaymentRejected
			}
			wg.Go(func() {
				ok, err := d.SetPaymentStatus(ctx, p.ID, []payments.PaymentStatus{payments.PaymentReview}, to, "by admin", t0)
				if err != nil {
					errs <- err
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := wins.Load(); n != 1 {
			t.Errorf("%d goroutines decided the payment, want exactly 1", n)
		}
		if got, _ := d.Payment(ctx, p.ID); got.Reason != "by admin at 2025-03-14 02:26:53Z" {
			t.Errorf("reason %q, want one note", got.Reason)
		}
	})
}
