package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestUpgradeToTypedState: version 5 reads the facts version 4 kept only in
// text (why a payment went to review, what an alert is about) into typed
// columns, so that nothing decides by parsing text after the upgrade.
func TestUpgradeToTypedState(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) { upgradeToTypedState(t, e.NewURL(t)) })
}

func upgradeToTypedState(t *testing.T, path string) {
	ctx := context.Background()
	at := t0.UTC() // as the store writes times
	old := migratedTo(t, path, 4)
	inv := testInvoice()
	oldInvoice(t, old, inv)
	pays := []struct {
		status, reason string
		want           payments.PaymentCause
	}{
		{"settled", "", payments.CauseNone},
		{"review", "invoice INV-000001 was cancelled; amount 4.00 USD, expected 5.00 USD", payments.CauseCancelled},
		{"rejected", "invoice INV-000001 was cancelled; rejected by 42 at 2026-03-01 10:00:00Z", payments.CauseCancelled},
		{"review", `paid to "x@bank", expected shop@bank`, payments.CauseMismatch},
		{"settled", "amount 4.00 USD, expected 5.00 USD; accepted by 42 at 2026-03-01 10:00:00Z", payments.CauseMismatch},
		{"duplicate", "invoice INV-000001 is already paid", payments.CauseAlreadyPaid},
	}
	for i, p := range pays {
		row := v1Payment{Hash: strings.Repeat(string(rune('a'+i)), 64), ShortHash: strings.Repeat(string(rune('a'+i)), 8),
			InvoiceID: &inv.ID, Amount: 500, Currency: "USD", PaidAt: at, Status: p.status, Reason: p.reason, Source: "poll", CreatedAt: at}
		if err := old.gdb.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
	}
	exp := time.Date(2026, 3, 8, 2, 0, 0, 0, time.UTC)
	alerts := []struct {
		detail string
		want   payments.Event
	}{
		{"token_expiring 2026-03-08T02:00:00Z 6", payments.Event{Alert: payments.AlertTokenExpiring, Expires: exp, DaysLeft: 6}},
		{"token_expired 2026-03-08T02:00:00Z", payments.Event{Alert: payments.AlertTokenExpired, Expires: exp}},
		{"Bakong checks failed 5 times in a row; payments are not being confirmed: boom", payments.Event{Alert: payments.AlertOutage}},
		{"Bakong answers again", payments.Event{Alert: payments.AlertRecovered}},
		{"checks of QR INV-000001-1 failed 5 times in a row: boom", payments.Event{Alert: payments.AlertQRChecks}},
		{"token_expiring soon", payments.Event{}},
	}
	for _, a := range alerts {
		row := v1Event{Kind: "alert", Detail: a.detail, CreatedAt: at, NextAttempt: at}
		if err := old.gdb.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := old.gdb.Create(&v1User{ID: 7, Language: "km", Role: "admin", CreatedAt: at, UpdatedAt: at}).Error; err != nil {
		t.Fatal(err)
	}
	old.Close()

	d, _ := openPath(t, path)
	got, err := d.ListPayments(ctx, payments.PaymentFilter{})
	if err != nil || len(got) != len(pays) {
		t.Fatalf("payments after the upgrade: %d, %v", len(got), err)
	}
	for i, p := range got { // newest first
		if want := pays[len(pays)-1-i]; p.Cause != want.want || p.Reason != want.reason {
			t.Errorf("payment %q: cause %q, want %q", p.Reason, p.Cause, want.want)
		}
	}
	evs, err := d.PendingEvents(ctx, at, 100)
	if err != nil || len(evs) != len(alerts) {
		t.Fatalf("events after the upgrade: %d, %v", len(evs), err)
	}
	for i, e := range evs {
		w := alerts[i].want
		if e.Alert != w.Alert || !e.Expires.Equal(w.Expires) || e.DaysLeft != w.DaysLeft || e.Detail != alerts[i].detail {
			t.Errorf("alert %q: %q %v %d, want %q %v %d", e.Detail, e.Alert, e.Expires, e.DaysLeft, w.Alert, w.Expires, w.DaysLeft)
		}
	}
	if u, err := d.User(ctx, 7); err != nil || u.Language != "km" {
		t.Errorf("user after the upgrade: %+v %v", u, err)
	}
}
