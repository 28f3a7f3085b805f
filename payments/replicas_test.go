package payments_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// replicas starts n-1 more nodes on h's database, all drawing from one
// budget of rps kept in the database.
func replicas(h *harness, n, rps int) []*node {
	h.t.Helper()
	rc := h.rc
	rc.MaxRPS = rps
	rc.Budget = payments.StoreBudget(h.db, payments.BudgetName, rps)
	h.rec = payments.NewReconciler(h.svc, rc)
	nodes := []*node{h.node}
	for range n - 1 {
		o := h.start()
		o.rec = payments.NewReconciler(o.svc, rc)
		nodes = append(nodes, o)
	}
	return nodes
}

// tickAll ticks every node at once.
func tickAll(h *harness, nodes []*node) {
	h.t.Helper()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() {
			if err := n.rec.Tick(h.ctx); err != nil {
				h.t.Errorf("Tick: %v", err)
			}
		})
	}
	wg.Wait()
}

// TestReplicasCheckEachQROnce: three reconcilers on one database tick
// together; each cycle asks about each due QR once, in full lists, so the
// deployment makes ceil(N/50) calls per interval.
func TestReplicasCheckEachQROnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)))
		nodes := replicas(h, 3, 1000)
		const n = 230
		qrs := make([]*payments.QR, n)
		for i := range qrs {
			qrs[i] = h.qr(h.invoice(usd5).ID)
		}
		h.pay(qrs[7], sim.Payment{})
		for cycle := range 3 {
			h.sim.ResetCalls()
			tickAll(h, nodes)
			if got, want := h.calls(epMD5List), (n+49)/50; got != want || h.calls(epMD5) != 0 {
				t.Errorf("cycle %d: %d list calls and %d single, want %d lists", cycle, got, h.calls(epMD5), want)
			}
			calls := h.sim.Calls()
			for _, q := range qrs {
				k := 0
				for _, c := range calls {
					k += strings.Count(c.Body, q.MD5)
				}
				if k != 1 && (cycle == 0 || q != qrs[7]) {
					t.Errorf("cycle %d: QR %s asked about %d times", cycle, q.BillNumber, k)
				}
			}
			h.clk.Advance(interval)
		}
		h.wantQR(qrs[7].ID, payments.QRPaid)
		h.wantKinds(qrs[7].InvoiceID, payments.EventSettled)
	})
}

// TestReplicaDiesWithClaims: a replica that claimed QRs and died leaves
// them to another once the claims expire.
func TestReplicaDiesWithClaims(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)))
		nodes := replicas(h, 2, 1000)
		q := h.qr(h.invoice(usd5).ID)
		h.pay(q, sim.Payment{})
		now := h.clk.Now()
		claimFor := 2*interval + 10*time.Second // the default
		if got, err := nodes[1].db.ClaimDueQRs(h.ctx, now, now.Add(claimFor), 0, 10); err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		// nodes[1] dies here. nodes[0] finds nothing until the claim expires.
		for h.clk.Now().Before(now.Add(claimFor)) {
			h.tick()
			h.wantQR(q.ID, payments.QRPending)
			h.clk.Advance(interval)
		}
		h.tick()
		h.wantQR(q.ID, payments.QRPaid)
	})
}

// TestReplicasShareTheBudget: MaxRPS is the deployment's: three replicas
// ticking at one instant make no more calls than one budget's burst.
func TestReplicasShareTheBudget(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)), withReconciler(payments.ReconcilerConfig{Interval: interval, MaxBackoff: time.Minute}))
		nodes := replicas(h, 3, 2)
		for range 300 {
			h.qr(h.invoice(usd5).ID)
		}
		h.sim.ResetCalls()
		tickAll(h, nodes)
		if got := h.checks(); got != 2 {
			t.Errorf("%d calls at one instant by 3 replicas sharing 2 a second, want 2", got)
		}
		h.clk.Advance(time.Second)
		h.sim.ResetCalls()
		tickAll(h, nodes)
		if got := h.checks(); got != 2 {
			t.Errorf("%d calls a second later, want 2", got)
		}
		// What the budget did not allow was released, not left claimed.
		h.sim.ResetCalls()
		h.clk.Advance(time.Hour)
		tickAll(h, nodes)
		if got := h.checks(); got != 2 {
			t.Errorf("%d calls an hour later, want 2", got)
		}
	})
}

// TestReplicasAlertOnce: every replica sees Bakong fail and recover; the
// admins hear of each once.
func TestReplicasAlertOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)))
		nodes := replicas(h, 3, 1000)
		for range 200 {
			h.qr(h.invoice(usd5).ID)
		}
		h.setFault("*", sim.Fault{Status: http.StatusBadGateway})
		for range 8 {
			tickAll(h, nodes)
			h.clk.Advance(interval)
		}
		if got := h.kinds(0); len(got) != 1 || got[0] != payments.EventAlert {
			t.Fatalf("events after the outage began: %v, want one alert", got)
		}
		h.setFault("*", sim.Fault{})
		h.clk.Advance(time.Minute) // past every backoff
		for range 3 {
			tickAll(h, nodes)
			h.clk.Advance(interval)
		}
		if got := h.kinds(0); len(got) != 2 {
			t.Fatalf("events after the outage ended: %v, want two alerts", got)
		}
	})
}

// TestReplicasWarnTokenOnce: three replicas check the token at the same
// moment; the admins are warned once that day.
func TestReplicasWarnTokenOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		h := newHarness(t, withDatabase(e.NewURL(t)), live)
		nodes := replicas(h, 3, 1000)
		st := bakong.TokenStatus{Present: true, ExpiresAt: h.clk.Now().Add(3 * 24 * time.Hour)}
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				if _, err := n.svc.WarnTokenExpiry(h.ctx, st); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := tokenAlerts(t, h); len(got) != 1 {
			t.Errorf("%d token warnings from 3 replicas, want 1", len(got))
		}
	})
}
