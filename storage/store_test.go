package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

func testInvoice() *payments.Invoice {
	return &payments.Invoice{
		Kind:        payments.KindPay,
		Amount:      payments.Money{Amount: 500, Currency: payments.USD},
		Description: "logo design ☕ រូបសញ្ញា",
		CreatedBy:   1001,
		ChatID:      -42,
	}
}

func testQR(invID int64, n int) *payments.QR {
	return &payments.QR{
		InvoiceID:   invID,
		BillNumber:  fmt.Sprintf("B%06d", n),
		Payload:     fmt.Sprintf("000201010212...%d", n),
		MD5:         fmt.Sprintf("%032x", n),
		Amount:      payments.Money{Amount: 500, Currency: payments.USD},
		Receiver:    "shop@aclb",
		ChatID:      -42,
		UserID:      1001,
		CreatedAt:   t0,
		ExpiresAt:   t0.Add(10 * time.Minute),
		NextCheckAt: t0.Add(5 * time.Second),
	}
}

func testPayment(qr *payments.QR, n int) *payments.Payment {
	h := fmt.Sprintf("%064x", n)
	return &payments.Payment{
		Hash: h, ShortHash: h[:8], QRID: qr.ID, InvoiceID: qr.InvoiceID, MD5: qr.MD5,
		FromAccount: "payer@wing", ToAccount: qr.Receiver, Amount: qr.Amount,
		PaidAt: t0.Add(time.Minute), Status: payments.PaymentSettled, Source: "poll",
	}
}

// seed creates an invoice and one QR for it.
func seed(t *testing.T, s payments.Store) (*payments.Invoice, *payments.QR) {
	t.Helper()
	ctx := context.Background()
	inv := testInvoice()
	if err := s.CreateInvoice(ctx, inv); err != nil {
		t.Fatal(err)
	}
	q := testQR(inv.ID, int(inv.ID))
	if err := s.CreateQR(ctx, q); err != nil {
		t.Fatal(err)
	}
	return inv, q
}

func TestCreateInvoice(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, clk := newDB(t, e)
		ctx := context.Background()

		a := testInvoice()
		a.Token = "tok-a"
		if err := d.CreateInvoice(ctx, a); err != nil {
			t.Fatal(err)
		}
		if a.ID != 1 || a.Number != "INV-000001" || a.Status != payments.InvoiceOpen {
			t.Errorf("created %+v", a)
		}
		if !a.CreatedAt.Equal(t0) || !a.UpdatedAt.Equal(t0) || a.CreatedAt.Location() != time.UTC {
			t.Errorf("zero times became %v, %v; want the clock's %v in UTC", a.CreatedAt, a.UpdatedAt, t0)
		}

		// Times the caller sets are kept to the microsecond (Precision),
		// on both engines: 7µs stays, 7ns more is truncated.
		b := testInvoice()
		b.CreatedAt = t0.Add(-time.Hour + 7*time.Microsecond + 7)
		b.UpdatedAt = t0.Add(-time.Minute)
		b.Status = payments.InvoiceReview
		if err := d.CreateInvoice(ctx, b); err != nil {
			t.Fatal(err)
		}
		if b.Number != "INV-000002" || b.CreatedAt != t0.Add(-time.Hour+7*time.Microsecond).UTC() || !b.UpdatedAt.Equal(t0.Add(-time.Minute)) || b.Status != payments.InvoiceReview {
			t.Errorf("created %+v", b)
		}

		// Many invoices may have no token; a token is unique.
		c := testInvoice()
		if err := d.CreateInvoice(ctx, c); err != nil {
			t.Fatal(err)
		}
		dup := testInvoice()
		dup.Token = "tok-a"
		wantCode(t, d.CreateInvoice(ctx, dup), payments.EConflict)
		if dup.ID != 0 || dup.Number != "" {
			t.Errorf("failed create changed the invoice: %+v", dup)
		}
		wantCode(t, d.CreateInvoice(ctx, nil), payments.EInvalid)
		wantCode(t, d.CreateInvoice(ctx, a), payments.EInvalid)

		clk.Add(time.Hour)
		for _, tt := range []struct {
			name string
			get  func() (*payments.Invoice, error)
			want *payments.Invoice
		}{
			{"by id", func() (*payments.Invoice, error) { return d.Invoice(ctx, a.ID) }, a},
			{"by number", func() (*payments.Invoice, error) { return d.InvoiceByNumber(ctx, "INV-000002") }, b},
			{"by token", func() (*payments.Invoice, error) { return d.InvoiceByToken(ctx, "tok-a") }, a},
		} {
			got, err := tt.get()
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
			}
		}
		for _, tt := range []struct {
			name string
			get  func() (*payments.Invoice, error)
			msg  string
		}{
			{"id", func() (*payments.Invoice, error) { return d.Invoice(ctx, 99) }, "invoice INV-000099 not found"},
			{"number", func() (*payments.Invoice, error) { return d.InvoiceByNumber(ctx, "INV-000099") }, "invoice INV-000099 not found"},
			{"token", func() (*payments.Invoice, error) { return d.InvoiceByToken(ctx, "nope") }, "no invoice for this link"},
			{"empty token", func() (*payments.Invoice, error) { return d.InvoiceByToken(ctx, "") }, "no invoice for this link"},
		} {
			_, err := tt.get()
			wantCode(t, err, payments.ENotFound)
			if payments.ErrorMessage(err) != tt.msg {
				t.Errorf("%s: message %q, want %q", tt.name, payments.ErrorMessage(err), tt.msg)
			}
		}
	})
}

func TestInvoiceRoundTrip(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv := testInvoice()
		inv.Token = "t"
		inv.Kind = payments.KindInvoice
		inv.Amount = payments.Money{Amount: 10_000, Currency: payments.KHR}
		inv.PaymentID = 77
		inv.PaidAt = t0.Add(time.Second)
		inv.CreatedAt = t0
		inv.UpdatedAt = t0
		if err := d.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		got, err := d.Invoice(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, inv) {
			t.Errorf("got %+v\nwant %+v", got, inv)
		}
		if !got.PaidAt.Equal(t0.Add(time.Second)) {
			t.Errorf("PaidAt %v", got.PaidAt)
		}
	})
}

func TestSetInvoiceStatus(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv := testInvoice()
		if err := d.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		open := []payments.InvoiceStatus{payments.InvoiceOpen}
		at := t0.Add(time.Minute)
		tests := []struct {
			name      string
			id        int64
			from      []payments.InvoiceStatus
			to        payments.InvoiceStatus
			paymentID int64
			ok        bool
			code      string
			want      payments.InvoiceStatus
			paidAt    time.Time
			payment   int64
		}{
			{"open to review", inv.ID, open, payments.InvoiceReview, 5, true, "", payments.InvoiceReview, time.Time{}, 5},
			{"not from review", inv.ID, open, payments.InvoicePaid, 5, false, "", payments.InvoiceReview, time.Time{}, 5},
			{"review to paid", inv.ID, []payments.InvoiceStatus{payments.InvoiceOpen, payments.InvoiceReview}, payments.InvoicePaid, 6, true, "", payments.InvoicePaid, at, 6},
			{"paid once only", inv.ID, []payments.InvoiceStatus{payments.InvoiceOpen, payments.InvoiceReview}, payments.InvoicePaid, 7, false, "", payments.InvoicePaid, at, 6},
			{"missing", 99, open, payments.InvoicePaid, 0, false, payments.ENotFound, payments.InvoicePaid, at, 6},
			{"no from", inv.ID, nil, payments.InvoiceCancelled, 0, false, payments.EInvalid, payments.InvoicePaid, at, 6},
			{"paid to cancelled clears payment", inv.ID, []payments.InvoiceStatus{payments.InvoicePaid}, payments.InvoiceCancelled, 0, true, "", payments.InvoiceCancelled, at, 0},
		}
		for _, tt := range tests {
			ok, err := d.SetInvoiceStatus(ctx, tt.id, tt.from, tt.to, tt.paymentID, at)
			if ok != tt.ok || payments.ErrorCode(err) != tt.code {
				t.Errorf("%s: %v, %v; want %v, code %q", tt.name, ok, err, tt.ok, tt.code)
			}
			got, err := d.Invoice(ctx, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want || !got.PaidAt.Equal(tt.paidAt) || got.PaymentID != tt.payment {
				t.Errorf("%s: invoice %s paid %v payment %d; want %s %v %d", tt.name, got.Status, got.PaidAt, got.PaymentID, tt.want, tt.paidAt, tt.payment)
			}
			if tt.ok && !got.UpdatedAt.Equal(at) {
				t.Errorf("%s: UpdatedAt %v, want %v", tt.name, got.UpdatedAt, at)
			}
		}
	})
}

func TestListInvoices(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		var ids []int64
		for i := range 6 {
			inv := testInvoice()
			inv.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
			inv.CreatedBy = int64(1 + i%2)
			if err := d.CreateInvoice(ctx, inv); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inv.ID)
		}
		// Invoices 2 and 5 are paid, 5 before 2; 4 is cancelled.
		for _, p := range []struct {
			id int64
			at time.Time
		}{{ids[1], t0.Add(50 * time.Hour)}, {ids[4], t0.Add(40 * time.Hour)}} {
			if ok, err := d.SetInvoiceStatus(ctx, p.id, []payments.InvoiceStatus{payments.InvoiceOpen}, payments.InvoicePaid, 0, p.at); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		if ok, err := d.SetInvoiceStatus(ctx, ids[3], []payments.InvoiceStatus{payments.InvoiceOpen}, payments.InvoiceCancelled, 0, t0); !ok || err != nil {
			t.Fatal(ok, err)
		}
		tests := []struct {
			name string
			f    payments.InvoiceFilter
			want []int64
		}{
			{"all newest first", payments.InvoiceFilter{}, []int64{6, 5, 4, 3, 2, 1}},
			{"open", payments.InvoiceFilter{Statuses: []payments.InvoiceStatus{payments.InvoiceOpen}}, []int64{6, 3, 1}},
			{"paid or cancelled", payments.InvoiceFilter{Statuses: []payments.InvoiceStatus{payments.InvoicePaid, payments.InvoiceCancelled}}, []int64{5, 4, 2}},
			{"created by", payments.InvoiceFilter{CreatedBy: 2}, []int64{6, 4, 2}},
			{"created since", payments.InvoiceFilter{Since: t0.Add(2 * time.Hour)}, []int64{6, 5, 4, 3}},
			{"created in range", payments.InvoiceFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, []int64{3, 2}},
			{"paid, by paid time", payments.InvoiceFilter{PaidRange: true}, []int64{2, 5}},
			{"paid range", payments.InvoiceFilter{PaidRange: true, Since: t0.Add(45 * time.Hour)}, []int64{2}},
			{"paid until", payments.InvoiceFilter{PaidRange: true, Until: t0.Add(50 * time.Hour)}, []int64{5}},
			{"limit", payments.InvoiceFilter{Limit: 2}, []int64{6, 5}},
			{"limit offset", payments.InvoiceFilter{Limit: 2, Offset: 2}, []int64{4, 3}},
			{"offset only", payments.InvoiceFilter{Offset: 4}, []int64{2, 1}},
			{"none", payments.InvoiceFilter{CreatedBy: 9}, []int64{}},
		}
		for _, tt := range tests {
			got, err := d.ListInvoices(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(got))
			for i, inv := range got {
				ids[i] = inv.ID
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
}

func TestQRs(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv, q := seed(t, d)
		if q.ID == 0 || q.Status != payments.QRPending {
			t.Errorf("created %+v", q)
		}
		q.Deeplink = "https://bakong.page.link/x"
		q.Sandbox = true
		for _, tt := range []struct {
			name string
			get  func() (*payments.QR, error)
		}{
			{"by id", func() (*payments.QR, error) { return d.QR(ctx, q.ID) }},
			{"by md5", func() (*payments.QR, error) { return d.QRByMD5(ctx, q.MD5) }},
		} {
			got, err := tt.get()
			if err != nil {
				t.Fatal(err)
			}
			want := *q
			want.Deeplink, want.Sandbox = "", false
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("%s: %+v\nwant %+v", tt.name, got, want)
			}
		}
		_, err := d.QR(ctx, 99)
		wantCode(t, err, payments.ENotFound)
		_, err = d.QRByMD5(ctx, "nope")
		wantCode(t, err, payments.ENotFound)

		for _, tt := range []struct {
			name string
			mod  func(*payments.QR)
			code string
		}{
			{"same md5", func(x *payments.QR) { x.MD5 = q.MD5 }, payments.EConflict},
			{"same bill number", func(x *payments.QR) { x.BillNumber = q.BillNumber }, payments.EConflict},
			{"missing invoice", func(x *payments.QR) { x.InvoiceID = 99 }, payments.ENotFound},
			{"has id", func(x *payments.QR) { x.ID = 5 }, payments.EInvalid},
		} {
			x := testQR(inv.ID, 500)
			tt.mod(x)
			wantCode(t, d.CreateQR(ctx, x), tt.code)
		}
		wantCode(t, d.CreateQR(ctx, nil), payments.EInvalid)

		if err := d.SetQRDeeplink(ctx, q.ID, "https://bakong.page.link/x"); err != nil {
			t.Fatal(err)
		}
		next := t0.Add(time.Hour)
		if err := d.SetQRCheck(ctx, q.ID, t0.Add(time.Minute), next, 3, "HTTP 503"); err != nil {
			t.Fatal(err)
		}
		got, _ := d.QR(ctx, q.ID)
		if got.Deeplink != "https://bakong.page.link/x" || !got.LastCheckedAt.Equal(t0.Add(time.Minute)) || !got.NextCheckAt.Equal(next) || got.CheckFailures != 3 || got.LastError != "HTTP 503" {
			t.Errorf("after deeplink and check: %+v", got)
		}
		wantCode(t, d.SetQRDeeplink(ctx, 99, "x"), payments.ENotFound)
		wantCode(t, d.SetQRCheck(ctx, 99, t0, t0, 0, ""), payments.ENotFound)
	})
}

func TestSetQRStatus(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		pending := []payments.QRStatus{payments.QRPending}
		at := t0.Add(11 * time.Minute)
		tests := []struct {
			name   string
			id     int64
			from   []payments.QRStatus
			to     payments.QRStatus
			ok     bool
			code   string
			want   payments.QRStatus
			closed time.Time
		}{
			{"expire", q.ID, pending, payments.QRExpired, true, "", payments.QRExpired, at},
			{"expire once", q.ID, pending, payments.QRExpired, false, "", payments.QRExpired, at},
			{"late payment to review", q.ID, []payments.QRStatus{payments.QRPending, payments.QRExpired}, payments.QRReview, true, "", payments.QRReview, at},
			{"reopen clears closed", q.ID, []payments.QRStatus{payments.QRReview}, payments.QRPending, true, "", payments.QRPending, time.Time{}},
			{"missing", 99, pending, payments.QRPaid, false, payments.ENotFound, payments.QRPending, time.Time{}},
			{"no from", q.ID, nil, payments.QRPaid, false, payments.EInvalid, payments.QRPending, time.Time{}},
		}
		for _, tt := range tests {
			ok, err := d.SetQRStatus(ctx, tt.id, tt.from, tt.to, at)
			if ok != tt.ok || payments.ErrorCode(err) != tt.code {
				t.Errorf("%s: %v, %v; want %v, code %q", tt.name, ok, err, tt.ok, tt.code)
			}
			got, _ := d.QR(ctx, q.ID)
			if got.Status != tt.want || !got.ClosedAt.Equal(tt.closed) {
				t.Errorf("%s: %s closed %v, want %s %v", tt.name, got.Status, got.ClosedAt, tt.want, tt.closed)
			}
		}
	})
}

func TestListQRs(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		a, _ := seed(t, d) // QR 1
		b, _ := seed(t, d) // QR 2
		for i := 3; i <= 5; i++ {
			if err := d.CreateQR(ctx, testQR(a.ID, i)); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := d.SetQRStatus(ctx, 3, []payments.QRStatus{payments.QRPending}, payments.QRExpired, t0); !ok || err != nil {
			t.Fatal(ok, err)
		}
		tests := []struct {
			name string
			f    payments.QRFilter
			want []int64
		}{
			{"all", payments.QRFilter{}, []int64{5, 4, 3, 2, 1}},
			{"invoice", payments.QRFilter{InvoiceID: a.ID}, []int64{5, 4, 3, 1}},
			{"other invoice", payments.QRFilter{InvoiceID: b.ID}, []int64{2}},
			{"expired", payments.QRFilter{Statuses: []payments.QRStatus{payments.QRExpired}}, []int64{3}},
			{"invoice pending", payments.QRFilter{InvoiceID: a.ID, Statuses: []payments.QRStatus{payments.QRPending}}, []int64{5, 4, 1}},
			{"page", payments.QRFilter{Limit: 2, Offset: 1}, []int64{4, 3}},
			// Since is kept to Precision like the times stored, on both
			// engines: a nanosecond after t0 is still t0.
			{"since t0", payments.QRFilter{Since: t0}, []int64{5, 4, 3, 2, 1}},
			{"since a nanosecond after t0", payments.QRFilter{Since: t0.Add(time.Nanosecond)}, []int64{5, 4, 3, 2, 1}},
			{"since a microsecond after t0", payments.QRFilter{Since: t0.Add(time.Microsecond)}, []int64{}},
		}
		for _, tt := range tests {
			got, err := d.ListQRs(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(got))
			for i, q := range got {
				ids[i] = q.ID
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
}

// dueQRs reads what ClaimDueQRs would claim, without claiming it.
func dueQRs(ctx context.Context, d *DB, now time.Time, after int64, limit int) ([]payments.QR, error) {
	return find[payments.QR, qrRow](dueQuery(d.gdb.WithContext(ctx), now, after, limit), "due QRs")
}

func TestDueQRs(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv, _ := seed(t, d) // QR 1, due at t0+5s
		// QRs 2..6 due at t0-1s, t0+1s, t0+3s, t0 (in another zone), t0+1s.
		for i, due := range []time.Time{t0.Add(-time.Second), t0.Add(time.Second), t0.Add(3 * time.Second), t0.UTC(), t0.Add(time.Second).In(time.FixedZone("X", -5*3600))} {
			q := testQR(inv.ID, 100+i)
			q.NextCheckAt = due
			if err := d.CreateQR(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		// QR 7 is due but closed; QR 8 due a microsecond (Precision) after t0.
		q := testQR(inv.ID, 200)
		q.NextCheckAt = t0.Add(-time.Hour)
		q.Status = payments.QRPaid
		if err := d.CreateQR(ctx, q); err != nil {
			t.Fatal(err)
		}
		q = testQR(inv.ID, 201)
		q.NextCheckAt = t0.Add(time.Microsecond)
		if err := d.CreateQR(ctx, q); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			now   time.Time
			after int64
			limit int
			want  []int64
		}{
			{"at t0", t0, 0, 0, []int64{2, 5}},
			{"at t0 in UTC", t0.UTC(), 0, 0, []int64{2, 5}},
			{"a nanosecond later", t0.Add(time.Nanosecond), 0, 0, []int64{2, 5}},
			{"a microsecond later", t0.Add(time.Microsecond), 0, 0, []int64{2, 5, 8}},
			{"ordered by id", t0.Add(10 * time.Second), 0, 0, []int64{1, 2, 3, 4, 5, 6, 8}},
			{"limit", t0.Add(10 * time.Second), 0, 3, []int64{1, 2, 3}},
			{"after an id", t0.Add(10 * time.Second), 3, 0, []int64{4, 5, 6, 8}},
			{"after an id, limit", t0.Add(10 * time.Second), 4, 2, []int64{5, 6}},
			{"after the last", t0.Add(10 * time.Second), 8, 0, []int64{}},
			{"nothing due", t0.Add(-time.Minute), 0, 0, []int64{}},
		}
		for _, tt := range tests {
			got, err := dueQRs(ctx, d, tt.now, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(got))
			for i, q := range got {
				ids[i] = q.ID
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
}

func TestPayments(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv, q := seed(t, d)
		p := testPayment(q, 1)
		p.AcknowledgedAt = t0.Add(2 * time.Minute)
		if err := d.CreatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.ID != 1 || !p.CreatedAt.Equal(t0) {
			t.Errorf("created %+v", p)
		}
		got, err := d.PaymentByHash(ctx, p.Hash)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("by hash: %+v %v\nwant %+v", got, err, p)
		}
		_, err = d.PaymentByHash(ctx, "nope")
		wantCode(t, err, payments.ENotFound)

		// A duplicate hash is a conflict and changes nothing.
		dup := testPayment(q, 1)
		dup.Amount.Amount = 1
		dup.Status = payments.PaymentDuplicate
		err = d.CreatePayment(ctx, dup)
		wantCode(t, err, payments.EConflict)
		if dup.ID != 0 {
			t.Errorf("duplicate got id %d", dup.ID)
		}
		if got, _ := d.PaymentByHash(ctx, p.Hash); !reflect.DeepEqual(got, p) {
			t.Errorf("duplicate changed the payment: %+v", got)
		}

		// A payment found without a QR (a receipt's short hash) keeps zero ids.
		loose := testPayment(q, 2)
		loose.QRID, loose.InvoiceID = 0, 0
		if err := d.CreatePayment(ctx, loose); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.PaymentByHash(ctx, loose.Hash); got.QRID != 0 || got.InvoiceID != 0 {
			t.Errorf("loose payment read back as %+v", got)
		}

		for _, tt := range []struct {
			name string
			mod  func(*payments.Payment)
			code string
		}{
			{"missing QR", func(x *payments.Payment) { x.QRID = 99 }, payments.ENotFound},
			{"missing invoice", func(x *payments.Payment) { x.InvoiceID = 99 }, payments.ENotFound},
			{"no hash", func(x *payments.Payment) { x.Hash = "" }, payments.EInvalid},
			{"has id", func(x *payments.Payment) { x.ID = 3 }, payments.EInvalid},
		} {
			x := testPayment(q, 50)
			tt.mod(x)
			err := d.CreatePayment(ctx, x)
			if payments.ErrorCode(err) != tt.code {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
			}
		}
		wantCode(t, d.CreatePayment(ctx, nil), payments.EInvalid)
		_ = inv
	})
}

func TestListPayments(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q1 := seed(t, d)
		_, q2 := seed(t, d)
		for i, x := range []struct {
			q      *payments.QR
			status payments.PaymentStatus
			paid   time.Duration
		}{
			{q1, payments.PaymentSettled, time.Hour},
			{q1, payments.PaymentDuplicate, 3 * time.Hour},
			{q2, payments.PaymentReview, 2 * time.Hour},
			{q2, payments.PaymentSettled, 4 * time.Hour},
		} {
			p := testPayment(x.q, i+1)
			p.Status = x.status
			p.PaidAt = t0.Add(x.paid)
			if err := d.CreatePayment(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name string
			f    payments.PaymentFilter
			want []int64
		}{
			{"all", payments.PaymentFilter{}, []int64{4, 3, 2, 1}},
			{"invoice", payments.PaymentFilter{InvoiceID: q1.InvoiceID}, []int64{2, 1}},
			{"qr", payments.PaymentFilter{QRID: q2.ID}, []int64{4, 3}},
			{"settled", payments.PaymentFilter{Statuses: []payments.PaymentStatus{payments.PaymentSettled}}, []int64{4, 1}},
			{"paid range", payments.PaymentFilter{Since: t0.Add(2 * time.Hour), Until: t0.Add(4 * time.Hour)}, []int64{3, 2}},
			{"limit", payments.PaymentFilter{Limit: 1}, []int64{4}},
		}
		for _, tt := range tests {
			got, err := d.ListPayments(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(got))
			for i, p := range got {
				ids[i] = p.ID
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
}

func TestOutbox(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, clk := newDB(t, e)
		ctx := context.Background()
		var evs []*payments.Event
		for i, next := range []time.Time{{}, t0.Add(time.Minute), {}, t0.Add(-time.Minute)} {
			e := &payments.Event{Kind: payments.EventSettled, InvoiceID: int64(i + 1), NextAttempt: next, Detail: "d"}
			if err := d.AddEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		if evs[0].ID != 1 || !evs[0].CreatedAt.Equal(t0) || !evs[0].NextAttempt.Equal(t0) {
			t.Errorf("added %+v", evs[0])
		}
		wantCode(t, d.AddEvent(ctx, &payments.Event{}), payments.EInvalid)
		wantCode(t, d.AddEvent(ctx, nil), payments.EInvalid)

		pending := func(now time.Time, limit int) []int64 {
			t.Helper()
			got, err := d.PendingEvents(ctx, now, limit)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(got))
			for i, e := range got {
				ids[i] = e.ID
			}
			return ids
		}
		if got := pending(t0, 0); !reflect.DeepEqual(got, []int64{1, 3, 4}) {
			t.Errorf("pending at t0: %v", got)
		}
		if got := pending(t0, 2); !reflect.DeepEqual(got, []int64{1, 3}) {
			t.Errorf("pending at t0, 2: %v", got)
		}
		if err := d.MarkEventDelivered(ctx, 1, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := d.MarkEventDelivered(ctx, 1, t0.Add(time.Hour)); err != nil {
			t.Fatalf("marking twice: %v", err)
		}
		wantCode(t, d.MarkEventDelivered(ctx, 99, t0), payments.ENotFound)
		if err := d.DelayEvent(ctx, 3, t0.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := d.DelayEvent(ctx, 3, t0.Add(90*time.Second)); err != nil {
			t.Fatal(err)
		}
		wantCode(t, d.DelayEvent(ctx, 99, t0), payments.ENotFound)
		if got := pending(t0, 0); !reflect.DeepEqual(got, []int64{4}) {
			t.Errorf("pending after deliver and delay: %v", got)
		}
		clk.Add(2 * time.Minute)
		all, _ := d.PendingEvents(ctx, clk.Now(), 0)
		if len(all) != 3 || all[1].ID != 3 || all[1].Attempts != 2 || !all[1].NextAttempt.Equal(t0.Add(90*time.Second)) {
			t.Errorf("pending later: %+v", all)
		}
		var first eventRow
		d.gdb.First(&first, 1)
		if !first.DeliveredAt.Equal(t0.Add(time.Second)) {
			t.Errorf("delivered at %v, want the first mark", first.DeliveredAt)
		}
	})
}

func TestMessages(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		inv, q := seed(t, d)
		_, err := d.MessageByQR(ctx, q.ID)
		wantCode(t, err, payments.ENotFound)

		if err := d.LinkMessage(ctx, payments.Message{ChatID: -42, MessageID: 7, QRID: q.ID}); err != nil {
			t.Fatal(err)
		}
		got, err := d.MessageByQR(ctx, q.ID)
		want := payments.Message{ChatID: -42, MessageID: 7, QRID: q.ID, InvoiceID: inv.ID, CreatedAt: t0.UTC()}
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("linked %+v %v, want %+v", got, err, want)
		}
		// Linking again replaces the message.
		want = payments.Message{ChatID: 5, MessageID: 9, QRID: q.ID, InvoiceID: inv.ID, CreatedAt: t0.Add(time.Minute).UTC()}
		if err := d.LinkMessage(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.MessageByQR(ctx, q.ID); !reflect.DeepEqual(*got, want) {
			t.Errorf("relinked %+v, want %+v", got, want)
		}
		var n int64
		d.gdb.Model(&messageRow{}).Count(&n)
		if n != 1 {
			t.Errorf("%d message rows, want 1", n)
		}
		wantCode(t, d.LinkMessage(ctx, payments.Message{ChatID: 1, MessageID: 1, QRID: 99}), payments.ENotFound)
		wantCode(t, d.LinkMessage(ctx, payments.Message{ChatID: 1, MessageID: 1, QRID: q.ID, InvoiceID: 99}), payments.ENotFound)
		wantCode(t, d.LinkMessage(ctx, payments.Message{ChatID: 1, MessageID: 1}), payments.EInvalid)
	})
}

func TestUsers(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, clk := newDB(t, e)
		ctx := context.Background()
		_, err := d.User(ctx, 1001)
		wantCode(t, err, payments.ENotFound)

		u := &payments.User{ID: 1001, Language: "km"}
		if err := d.SaveUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		want := payments.User{ID: 1001, Language: "km", CreatedAt: t0.UTC(), UpdatedAt: t0.UTC()}
		if !reflect.DeepEqual(*u, want) {
			t.Errorf("saved %+v, want %+v", u, want)
		}
		clk.Add(time.Hour)
		u2 := &payments.User{ID: 1001, Language: "en"}
		if err := d.SaveUser(ctx, u2); err != nil {
			t.Fatal(err)
		}
		want = payments.User{ID: 1001, Language: "en", CreatedAt: t0.UTC(), UpdatedAt: t0.Add(time.Hour).UTC()}
		if got, err := d.User(ctx, 1001); err != nil || !reflect.DeepEqual(*got, want) || !reflect.DeepEqual(*u2, want) {
			t.Errorf("updated %+v %+v %v, want %+v", got, u2, err, want)
		}
		wantCode(t, d.SaveUser(ctx, &payments.User{}), payments.EInvalid)
		wantCode(t, d.SaveUser(ctx, nil), payments.EInvalid)
	})
}

func TestSettings(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		steps := []struct {
			set, value string // set: key to store value under, "" to only read
			key, want  string
		}{
			{key: "bakong_token", want: ""},
			{set: "bakong_token", value: "eyJ.a", key: "bakong_token", want: "eyJ.a"},
			{set: "bakong_token", value: "eyJ.b", key: "bakong_token", want: "eyJ.b"},
			{set: "other", value: "", key: "other", want: ""},
			{key: "bakong_token", want: "eyJ.b"},
		}
		for _, s := range steps {
			if s.set != "" {
				if err := d.SetSetting(ctx, s.set, s.value); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := d.Setting(ctx, s.key); err != nil || got != s.want {
				t.Errorf("Setting(%q) = %q, %v; want %q", s.key, got, err, s.want)
			}
		}
		wantCode(t, d.SetSetting(ctx, "", "x"), payments.EInvalid)
	})
}

func TestCalls(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		calls := []*payments.APICall{
			{Endpoint: "check_transaction_by_md5", RequestID: "r1", HTTPStatus: 200, ResponseCode: 1, ErrorCode: 1, Latency: 1234567 * time.Nanosecond, Key: q.MD5, QRID: q.ID, At: t0},
			{Endpoint: "check_transaction_by_md5_list", RequestID: "r2", HTTPStatus: 403, Err: "geo-blocked", Latency: time.Second, Key: "50 md5s"},
			{Endpoint: "check_transaction_by_md5", RequestID: "r3", HTTPStatus: 200, QRID: q.ID, At: t0.Add(time.Minute)},
		}
		for _, c := range calls {
			if err := d.LogCall(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if calls[1].ID != 2 || !calls[1].At.Equal(t0) {
			t.Errorf("logged %+v", calls[1])
		}
		wantCode(t, d.LogCall(ctx, nil), payments.EInvalid)
		tests := []struct {
			name  string
			qr    int64
			limit int
			want  []*payments.APICall
		}{
			{"all", 0, 0, []*payments.APICall{calls[2], calls[1], calls[0]}},
			{"qr", q.ID, 0, []*payments.APICall{calls[2], calls[0]}},
			{"qr limit", q.ID, 1, []*payments.APICall{calls[2]}},
			{"other qr", 99, 0, nil},
		}
		for _, tt := range tests {
			got, err := d.ListCalls(ctx, tt.qr, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%s: %d calls, want %d", tt.name, len(got), len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(&got[i], tt.want[i]) {
					t.Errorf("%s[%d]: %+v, want %+v", tt.name, i, got[i], tt.want[i])
				}
			}
		}
	})
}

func TestWithTx(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		errBoom := errors.New("boom")
		count := func(t *testing.T, d *DB) (invoices, qrs int64) {
			d.gdb.Model(&invoiceRow{}).Count(&invoices)
			d.gdb.Model(&qrRow{}).Count(&qrs)
			return
		}
		tests := []struct {
			name     string
			fn       func(tx payments.Store) error
			err      error
			invoices int64
		}{
			{"commit", func(tx payments.Store) error { seed(t, tx); return nil }, nil, 1},
			{"rollback on error", func(tx payments.Store) error { seed(t, tx); return errBoom }, errBoom, 0},
			{"nested reuses the transaction", func(tx payments.Store) error {
				return tx.WithTx(ctx, func(inner payments.Store) error {
					if inner != tx {
						t.Error("nested WithTx made a new store")
					}
					seed(t, inner)
					return errBoom
				})
			}, errBoom, 0},
			{"domain error passes through", func(tx payments.Store) error {
				seed(t, tx)
				_, err := tx.Invoice(ctx, 99)
				return err
			}, nil, 0},
			{"a duplicate payment leaves the transaction usable", func(tx payments.Store) error {
				_, q := seed(t, tx)
				if err := tx.CreatePayment(ctx, testPayment(q, 1)); err != nil {
					return err
				}
				if err := tx.CreatePayment(ctx, testPayment(q, 1)); payments.ErrorCode(err) != payments.EConflict {
					return fmt.Errorf("duplicate: %v", err)
				}
				_, err := tx.SetInvoiceStatus(ctx, q.InvoiceID, []payments.InvoiceStatus{payments.InvoiceOpen}, payments.InvoicePaid, 1, t0)
				return err
			}, nil, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d, _ := newDB(t, e)
				err := d.WithTx(ctx, tt.fn)
				switch {
				case tt.name == "domain error passes through":
					wantCode(t, err, payments.ENotFound)
				case !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil):
					t.Fatalf("WithTx: %v, want %v", err, tt.err)
				}
				if inv, qrs := count(t, d); inv != tt.invoices || qrs != tt.invoices {
					t.Errorf("%d invoices, %d QRs after; want %d", inv, qrs, tt.invoices)
				}
			})
		}
	})
}

func TestWithTxPanicRollsBack(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		func() {
			defer func() {
				if recover() == nil {
					t.Error("panic swallowed")
				}
			}()
			d.WithTx(ctx, func(tx payments.Store) error {
				seed(t, tx)
				panic("bug")
			})
		}()
		got, err := d.ListInvoices(ctx, payments.InvoiceFilter{})
		if err != nil || len(got) != 0 {
			t.Errorf("after panic: %v %v", got, err)
		}
		// The store still works: the transaction and its lock were released.
		seed(t, d)
	})
}

func TestTxStoreClose(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		err := d.WithTx(ctx, func(tx payments.Store) error {
			if err := tx.Close(); err != nil {
				return err
			}
			seed(t, tx)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Invoice(ctx, 1); err != nil {
			t.Fatalf("the database closed with the transaction's store: %v", err)
		}
	})
}

func TestCanceledContext(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := d.Invoice(ctx, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("Invoice with a canceled context: %v", err)
		}
		if err := d.WithTx(ctx, func(payments.Store) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("WithTx with a canceled context: %v", err)
		}
	})
}

// TestLogCalls: a batch keeps its order and every field, files calls about
// a stored QR's md5 under it, and a large batch fits the engines' limits on
// bound parameters.
func TestLogCalls(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, clk := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		_, other := seed(t, d)
		if err := d.LogCalls(ctx, nil); err != nil {
			t.Fatal(err)
		}
		batch := []payments.APICall{
			{Endpoint: "generate_deeplink_by_qr", RequestID: "r1", HTTPStatus: 200, ResponseCode: 1, Latency: 1234567 * time.Nanosecond, Key: q.MD5, At: t0},
			{Endpoint: "check_transaction_by_md5_list", RequestID: "r2", HTTPStatus: 403, Err: "geo-blocked", Latency: time.Second, Key: "50 md5s"},
			{Endpoint: "check_transaction_by_md5", RequestID: "r3", HTTPStatus: 200, Key: q.MD5, QRID: other.ID, At: t0.Add(time.Minute)},
			{Endpoint: "check_transaction_by_md5", RequestID: "r4", ErrorCode: 3, Key: fmt.Sprintf("%032x", 999_999)},
		}
		if err := d.LogCalls(ctx, batch); err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(batch)
		for i := range want {
			want[i].ID, want[i].At = int64(i+1), want[i].At.UTC()
		}
		want[0].QRID = q.ID                                       // its md5 is q's
		want[1].At, want[3].At = clk.Now().UTC(), clk.Now().UTC() // zero: the store's clock
		got, err := d.ListCalls(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("logged\n%+v\nwant\n%+v", got, want)
		}

		big := make([]payments.APICall, 2_345)
		for i := range big {
			big[i] = payments.APICall{Endpoint: "check_transaction_by_md5_list", RequestID: fmt.Sprint(i), Key: fmt.Sprintf("%032x", i), At: t0}
		}
		if err := d.LogCalls(ctx, big); err != nil {
			t.Fatal(err)
		}
		if got, err := d.ListCalls(ctx, 0, 0); err != nil || len(got) != len(batch)+len(big) || got[0].RequestID != "2344" {
			t.Errorf("after a batch of %d: %d calls (%v), newest %+v", len(big), len(got), err, got[0])
		}
	})
}

// TestTxStoreEngine: the Store a transaction hands out knows its engine,
// for the statements each engine spells its own way.
func TestTxStoreEngine(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		want := map[bool]Engine{false: SQLite, true: Postgres}[e.Postgres()]
		err := d.WithTx(context.Background(), func(tx payments.Store) error {
			if got := tx.(*DB).Engine(); got != want || d.Engine() != want {
				t.Errorf("engine %q in the transaction, %q outside, want %q", got, d.Engine(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
