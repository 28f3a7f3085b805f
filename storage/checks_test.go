package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// checkOf is the part of a QR a check records, in UTC so that == compares instants.
func checkOf(q *payments.QR) payments.QRCheck {
	return payments.QRCheck{QRID: q.ID, CheckedAt: q.LastCheckedAt.UTC(), Next: q.NextCheckAt.UTC(), Failures: q.CheckFailures, LastError: q.LastError}
}

func TestSetQRChecks(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		const n = 1200 // more than one UPDATE's chunk of ids
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv := testInvoice()
		if err := d.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := d.CreateQR(ctx, testQR(inv.ID, i)); err != nil {
				t.Fatal(err)
			}
		}
		at, next := t0.Add(time.Minute), t0.Add(time.Minute+5*time.Second)
		notFound := func(id int64) payments.QRCheck { // a cycle's "not found", dated in another zone
			return payments.QRCheck{QRID: id, CheckedAt: at.In(time.FixedZone("ICT", 7*3600)), Next: next}
		}
		failed := payments.QRCheck{QRID: 2, CheckedAt: at.Add(time.Second), Next: at.Add(time.Minute), Failures: 3, LastError: "HTTP 503"}
		never := payments.QRCheck{QRID: 3, Next: t0.Add(time.Hour)}
		all := make([]payments.QRCheck, n)
		for i := range all {
			all[i] = notFound(int64(i + 1))
		}
		tests := []struct {
			name   string
			checks []payments.QRCheck
			code   string
		}{
			{"none", nil, ""},
			{"one outcome, many QRs", all, ""},
			{"several outcomes", []payments.QRCheck{notFound(1), failed, never, notFound(4)}, ""},
			{"a missing QR records nothing", []payments.QRCheck{{QRID: 1, Next: t0}, {QRID: n + 1, Next: next}}, payments.ENotFound},
			{"a QR named twice", []payments.QRCheck{{QRID: 1, Next: t0}, {QRID: 1, Next: next}}, payments.EInvalid},
			{"no next check", []payments.QRCheck{{QRID: 1, CheckedAt: at}}, payments.EInvalid},
			{"no QR", []payments.QRCheck{{Next: next}}, payments.EInvalid},
			{"negative failures", []payments.QRCheck{{QRID: 1, Next: next, Failures: -1}}, payments.EInvalid},
		}
		want := map[int64]payments.QRCheck{}
		for i := range n {
			q := testQR(inv.ID, i)
			q.ID = int64(i + 1)
			want[q.ID] = checkOf(q)
		}
		for _, tt := range tests {
			err := d.SetQRChecks(ctx, tt.checks)
			if payments.ErrorCode(err) != tt.code {
				t.Fatalf("%s: %v, want code %q", tt.name, err, tt.code)
			}
			if err == nil {
				for _, c := range tt.checks {
					c.CheckedAt, c.Next = c.CheckedAt.UTC(), c.Next.UTC()
					want[c.QRID] = c
				}
			}
			qrs, err := d.ListQRs(ctx, payments.QRFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range qrs {
				if got := checkOf(&q); got != want[q.ID] {
					t.Fatalf("%s: QR %d records %+v, want %+v", tt.name, q.ID, got, want[q.ID])
				}
			}
		}
	})
}

// TestSetQRChecksInTx: the checks commit or roll back with the transaction.
func TestSetQRChecksInTx(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		c := payments.QRCheck{QRID: q.ID, CheckedAt: t0.Add(time.Minute).UTC(), Next: t0.Add(time.Hour).UTC()}
		for _, fail := range []bool{true, false} {
			err := d.WithTx(ctx, func(tx payments.Store) error {
				if err := tx.SetQRChecks(ctx, []payments.QRCheck{c}); err != nil {
					return err
				}
				if fail {
					return errors.New("boom")
				}
				return nil
			})
			got, gerr := d.QR(ctx, q.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if recorded := checkOf(got) == c; recorded == fail || (err != nil) != fail {
				t.Errorf("fail=%v: %v, recorded %+v", fail, err, checkOf(got))
			}
		}
	})
}

// TestDueQRsFields: a due QR holds the fields a check needs.
func TestDueQRsFields(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		if err := d.SetQRCheck(ctx, q.ID, t0, t0, 2, "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		full, err := d.QR(ctx, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		due, err := dueQRs(ctx, d, t0, 0, 0)
		if err != nil || len(due) != 1 {
			t.Fatalf("DueQRs: %v, %v", due, err)
		}
		want := payments.QR{
			ID: full.ID, InvoiceID: full.InvoiceID, BillNumber: full.BillNumber, MD5: full.MD5, Status: full.Status,
			ExpiresAt: full.ExpiresAt, NextCheckAt: full.NextCheckAt, CheckFailures: full.CheckFailures,
		}
		if due[0] != want {
			t.Errorf("due QR %+v, want %+v", due[0], want)
		}
	})
}
