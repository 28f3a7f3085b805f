package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/storage"
)

// The replica test: several `khqrbot run` processes (the real binary) on
// one database, with the Bakong simulator and the fake Bot API over HTTP.
// QRs are issued through Telegram (an admin's /invoice, a customer's
// /start inv_...), some are paid, and replicas are killed with SIGKILL at
// random moments: the poller among them. Every paid invoice must settle
// once, with one edit of the customer's QR message and one notice to the
// admin; nothing unpaid settles; Bakong calls per interval stay near
// ceil(pending/50) for the deployment; Telegram never sees two pollers at
// once (no 409), updates are answered again soon after the poller dies, and
// every update users send through the kills is answered, once
// (replicas_updates_test.go).

// TestReplicasPostgres runs three replicas on one PostgreSQL database and
// kills the poller and one other.
func TestReplicasPostgres(t *testing.T) {
	runReplicas(t, replicaRun{db: pgtest.URL(t), procs: 3, kills: 2})
}

// TestReplicasSQLite runs two processes on one SQLite file and kills the
// poller.
func TestReplicasSQLite(t *testing.T) {
	runReplicas(t, replicaRun{db: filepath.Join(t.TempDir(), "khqrbot.db"), procs: 2, kills: 1})
}

type replicaRun struct {
	db    string // DATABASE_URL
	procs int    // replicas started
	kills int    // replicas killed, the poller first
}

// The run's shape: QRs issued and paid, the polling interval, and the
// takeover the issue allows.
const (
	replicaQRs      = 200
	replicaPaid     = 120
	replicaInterval = 2 * time.Second
	replicaTakeover = 15 * time.Second
	replicaShop     = "shop@devb"
	replicaAdmins   = 4 // ids 777, 778, ...: one chat's lane takes fewer updates than replicaQRs
)

// admin is the id of the i-th invoice's admin.
func admin(i int) int64 { return int64(777 + i%replicaAdmins) }

// isAdmin reports whether chat is an admin's.
func isAdmin(chat int64) bool { return chat >= 777 && chat < 777+replicaAdmins }

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// TestMain removes the binary the tests built (khqrbotBinary), once every
// test ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// khqrbotBinary builds the khqrbot binary once for the test run.
func khqrbotBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "khqrbot-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "khqrbot")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// replica is one running `khqrbot run`.
type replica struct {
	name   string
	addr   string // LISTEN_ADDR: /healthz
	cmd    *exec.Cmd
	log    string // its stderr
	done   chan struct{}
	killed bool
}

// health is what /healthz says about a replica's part.
type health struct {
	Status        string `json:"status"`
	Replica       string `json:"replica"`
	Role          string `json:"role"`
	LeasesCurrent bool   `json:"leases_current"`
	Poller        string `json:"poller"`
}

func (r *replica) health() (health, error) {
	var h health
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, err
}

func runReplicas(t *testing.T, rr replicaRun) {
	bin := khqrbotBinary(t)
	tg := telegramtest.New(t)
	bk := sim.New(sim.Options{Accounts: []string{replicaShop}})
	simSrv := httptest.NewServer(bk)
	t.Cleanup(simSrv.Close)
	dir := t.TempDir()
	env := []string{
		"TELEGRAM_BOT_TOKEN=" + tg.Token(),
		"DATABASE_URL=" + rr.db,
		"BAKONG_TOKEN=" + bk.IssueToken("dev@shop.example"),
		"BAKONG_API_URL=" + simSrv.URL,
		"BAKONG_ACCOUNT_ID=" + replicaShop,
		"BAKONG_MAX_RPS=20",
		"MERCHANT_NAME=Coffee Shop",
		"ADMIN_IDS=777,778,779,780," + talkerIDs(),
		"POLL_INTERVAL=" + replicaInterval.String(),
		"QR_TTL=10m",
		"LOG_LEVEL=debug",
		"PATH=" + os.Getenv("PATH"),
	}
	var reps []*replica
	start := func(i int) *replica {
		r := &replica{name: fmt.Sprintf("r%d", i), addr: freeAddr(t), log: filepath.Join(dir, fmt.Sprintf("r%d.log", i)), done: make(chan struct{})}
		f, err := os.Create(r.log)
		if err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(bin, "run")
		// Its own base URL on the fake Bot API: its calls carry its name.
		r.cmd.Env = append(env, "LISTEN_ADDR="+r.addr, "TELEGRAM_API_URL="+tg.ClientURL(r.name))
		r.cmd.Stdout, r.cmd.Stderr = f, f
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.cmd.Wait(); f.Close(); close(r.done) }()
		return r
	}
	for i := range rr.procs {
		reps = append(reps, start(i))
	}
	t.Cleanup(func() {
		for _, r := range reps {
			if !r.killed {
				r.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		for _, r := range reps {
			select {
			case <-r.done:
			case <-time.After(30 * time.Second):
				r.cmd.Process.Kill()
				t.Errorf("%s did not stop on SIGTERM", r.name)
			}
			if t.Failed() {
				b, _ := os.ReadFile(r.log)
				t.Logf("%s log (last 4 kB):\n%s", r.name, tail(string(b), 4096))
			}
		}
	})

	// Every replica comes up; one polls.
	poller := func() *replica {
		for _, r := range reps {
			if h, err := r.health(); err == nil && !r.killed && h.Role == "poller" && h.LeasesCurrent {
				return r
			}
		}
		return nil
	}
	waitUntil(t, 60*time.Second, "every replica up and one polling", func() bool {
		for _, r := range reps {
			if h, err := r.health(); err != nil || h.Status != "ok" {
				return false
			}
		}
		return poller() != nil
	})

	// Issue the QRs: the admin makes an invoice, its customer opens the link.
	linkRE := regexp.MustCompile(`start=inv_([A-Za-z0-9_-]+)`)
	for i := range replicaQRs {
		tg.SendText(admin(i), admin(i), fmt.Sprintf("/invoice 1.%02d USD item %d", i%100, i))
	}
	var links []string
	waitUntil(t, 90*time.Second, "every invoice link", func() bool {
		links = links[:0]
		for a := range replicaAdmins {
			for _, m := range tg.Messages(admin(a)) {
				if l := linkRE.FindStringSubmatch(m.Text); m.FromBot && l != nil {
					links = append(links, l[1])
				}
			}
		}
		return len(links) == replicaQRs
	}, func() string { return fmt.Sprintf("%d links", len(links)) })
	customer := func(i int) int64 { return int64(10_000 + i) }
	for i, l := range links {
		tg.SendText(customer(i), customer(i), "/start inv_"+l)
	}
	qrMsg := map[int64]telegramtest.Message{} // customer -> their QR message
	waitUntil(t, 120*time.Second, "every customer's QR", func() bool {
		for i := range links {
			c := customer(i)
			if _, ok := qrMsg[c]; ok {
				continue
			}
			for _, m := range tg.Messages(c) {
				if m.FromBot && m.PhotoFileID != "" {
					qrMsg[c] = m
				}
			}
		}
		return len(qrMsg) == replicaQRs
	})
	db, err := storage.Open(t.Context(), rr.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	qrs, err := db.ListQRs(t.Context(), payments.QRFilter{Statuses: []payments.QRStatus{payments.QRPending}})
	if err != nil || len(qrs) != replicaQRs {
		t.Fatalf("%d pending QRs (%v), want %d", len(qrs), err, replicaQRs)
	}

	// Pay some over a few seconds; kill replicas meanwhile, the poller
	// first, while users keep talking to the bot (chatter) and one keeps
	// asking for /help.
	rand.Shuffle(len(qrs), func(i, j int) { qrs[i], qrs[j] = qrs[j], qrs[i] })
	paid := map[int64]bool{} // QR ids
	payDone := make(chan struct{})
	go func() {
		defer close(payDone)
		for _, q := range qrs[:replicaPaid] {
			if _, err := bk.PayQR(q.Payload, sim.Payment{}); err != nil {
				t.Errorf("pay %s: %v", q.BillNumber, err)
			}
			time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
		}
	}()
	for _, q := range qrs[:replicaPaid] {
		paid[q.ID] = true
	}
	const pinger = 4242
	noticesBy := func(replica string) int { // its "was paid" notices Telegram got
		n := 0
		for _, c := range tg.CallsTo("sendMessage") {
			if chat, _ := strconv.ParseInt(c.Params["chat_id"], 10, 64); c.Client == replica && isAdmin(chat) && strings.Contains(c.Params["text"], "was paid") {
				n++
			}
		}
		return n
	}
	var takeover time.Duration
	killed := map[string]bool{} // replica names
	chat := startChatter(tg)
	for k := range rr.kills {
		time.Sleep(time.Duration(500+rand.IntN(2500)) * time.Millisecond)
		if k == 0 {
			waitUntil(t, 30*time.Second, "the poller", func() bool { return poller() != nil })
		}
		victim := poller()
		if k > 0 || victim == nil {
			for _, r := range reps {
				if !r.killed && r != poller() {
					victim = r
					break
				}
			}
		}
		if victim == nil {
			t.Fatal("no replica to kill")
		}
		role := "other"
		if victim == poller() {
			role = "poller"
		}
		// Killed as Telegram takes one of its "was paid" notices, if it sends
		// one soon: in the middle of a delivery, the edit before it done.
		told := noticesBy(victim.name)
		midDelivery := tg.WaitFor(2*replicaInterval, func() bool { return noticesBy(victim.name) > told })
		if role == "poller" {
			// And with updates it took, stored and confirmed to Telegram
			// still in its lanes, or some of them.
			chat.burst()
			tg.WaitFor(5*time.Second, func() bool { return tg.Pending() == 0 })
		}
		victim.cmd.Process.Kill() // SIGKILL: no clean stop, no lease released
		victim.killed = true
		<-victim.done
		killedAt := time.Now()
		killed[victim.name] = true
		t.Logf("killed %s (%s), mid-delivery %v", victim.name, role, midDelivery)
		if role != "poller" {
			continue
		}
		// A /help sent each second is answered once a survivor polls.
		answered := func(sent int) bool {
			n := 0
			for _, m := range tg.Messages(pinger) {
				if m.FromBot {
					n++
				}
			}
			return n >= sent
		}
		before := 0
		for _, m := range tg.Messages(pinger) {
			if m.FromBot {
				before++
			}
		}
		sent := before
		ok := false
		for time.Since(killedAt) < 2*replicaTakeover && !ok {
			tg.SendText(pinger, pinger, "/help")
			sent++
			ok = tg.WaitFor(time.Second, func() bool { return answered(before + 1) })
		}
		if !ok {
			t.Fatalf("no update answered within %s of the poller's death", 2*replicaTakeover)
		}
		takeover = time.Since(killedAt)
		if takeover > replicaTakeover {
			t.Errorf("updates answered again %s after the poller died, want within %s", takeover.Round(time.Millisecond), replicaTakeover)
		}
		t.Logf("takeover: updates answered again %s after the poller died", takeover.Round(time.Millisecond))
	}
	chat.flowsOn(t)
	<-payDone

	// Every paid invoice settles, and its customer sees it.
	waitUntil(t, 90*time.Second, "every paid QR settled and shown", func() bool {
		for _, q := range qrs[:replicaPaid] {
			m, _ := tg.Message(q.ChatID, qrMsg[q.ChatID].ID)
			if !strings.Contains(m.Caption, "Paid") {
				return false
			}
		}
		return true
	})
	waitUntil(t, 60*time.Second, "the outbox drained", func() bool {
		evs, err := db.PendingEvents(t.Context(), time.Now().Add(time.Hour), 1)
		return err == nil && len(evs) == 0
	})
	// A moment for a duplicate, were there one, to show.
	time.Sleep(2 * replicaInterval)

	// Each step of a delivery (the edit of a customer's QR message, the
	// admin's "was paid" notice of its invoice) reaches Telegram once. The
	// one call that may repeat is one its replica was killed in: taken by
	// Telegram, not yet recorded. An event's steps are made by its chat's
	// worker, each recorded before the worker's next call, so that call is,
	// for each killed replica, at most its last call in each customer's
	// lane (the customer's edit and the notice of their invoice). A repeat
	// of any other call is a duplicate.
	invs := map[int64]*payments.Invoice{} // by QR id
	laneOf := map[string]int64{}          // invoice number -> its customer's chat
	for _, q := range qrs {
		inv, err := db.Invoice(t.Context(), q.InvoiceID)
		if err != nil {
			t.Fatal(err)
		}
		invs[q.ID], laneOf[inv.Number] = inv, q.ChatID
	}
	type step struct {
		chat   int64 // the customer's
		notice bool  // the admin's notice, else the edit of the customer's QR message
	}
	number := regexp.MustCompile(`INV-\d+`)
	calls := tg.Calls()
	copies := map[step][]int{}           // indexes in calls of those Telegram took, in order
	lastIn := map[string]map[int64]int{} // replica -> lane -> index of its last call there
	delivery := 0
	for i, c := range calls {
		chat, _ := strconv.ParseInt(c.Params["chat_id"], 10, 64)
		var s step
		switch {
		case strings.HasPrefix(c.Method, "editMessage"):
			if id, _ := strconv.Atoi(c.Params["message_id"]); id != qrMsg[chat].ID {
				continue
			}
			s = step{chat: chat}
		case c.Method == "sendMessage" && isAdmin(chat) && strings.Contains(c.Params["text"], "was paid"):
			n := number.FindString(c.Params["text"])
			lane, ok := laneOf[n]
			if !ok {
				t.Errorf("a notice of %q, no invoice of a customer: %q", n, c.Params["text"])
				continue
			}
			s = step{chat: lane, notice: true}
		default:
			continue
		}
		if lastIn[c.Client] == nil {
			lastIn[c.Client] = map[int64]int{}
		}
		lastIn[c.Client][s.chat] = i
		if c.ErrorCode == 0 { // a call refused (one a kill cut short) showed nothing
			delivery++
			copies[s] = append(copies[s], i)
		}
	}
	inFlight := func(i int, lane int64) bool {
		c := calls[i]
		return killed[c.Client] && lastIn[c.Client][lane] == i
	}
	edits, notices := map[int64]int{}, map[int64]int{} // by customer's chat: copies, less repeats of calls in flight
	repeats := 0
	for s, at := range copies {
		n := 1
		for k := 1; k < len(at); k++ {
			if inFlight(at[k-1], s.chat) {
				repeats++
				t.Logf("repeated after %s was killed in it: %s to chat %s (first %s, again by %s)", calls[at[k-1]].Client, calls[at[k]].Method, calls[at[k]].Params["chat_id"], calls[at[k-1]].At.Format("15:04:05.000"), calls[at[k]].Client)
			} else {
				n++
			}
		}
		if s.notice {
			notices[s.chat] = n
		} else {
			edits[s.chat] = n
		}
	}
	dups, lost := 0, 0
	for _, q := range qrs {
		inv := invs[q.ID]
		pays, err := db.ListPayments(t.Context(), payments.PaymentFilter{InvoiceID: inv.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !paid[q.ID] {
			if inv.Status != payments.InvoiceOpen || len(pays) != 0 || edits[q.ChatID] != 0 || notices[q.ChatID] != 0 {
				t.Errorf("unpaid invoice %s is %s with %d payments, %d edits, %d notices", inv.Number, inv.Status, len(pays), edits[q.ChatID], notices[q.ChatID])
			}
			continue
		}
		switch {
		case inv.Status != payments.InvoicePaid || len(pays) == 0:
			lost++
			t.Errorf("paid invoice %s is %s with %d payments", inv.Number, inv.Status, len(pays))
		case len(pays) > 1 || edits[q.ChatID] > 1 || notices[q.ChatID] > 1:
			dups++
			t.Errorf("paid invoice %s: %d payments, %d edits of its QR message, %d admin notices; want 1 of each", inv.Number, len(pays), edits[q.ChatID], notices[q.ChatID])
		case edits[q.ChatID] != 1 || notices[q.ChatID] != 1:
			lost++
			t.Errorf("paid invoice %s: %d edits of its QR message, %d admin notices; want 1 of each", inv.Number, edits[q.ChatID], notices[q.ChatID])
		}
	}

	// Telegram saw one poller at a time.
	conflicts := 0
	for _, c := range tg.CallsTo("getUpdates") {
		if c.ErrorCode == http.StatusConflict {
			conflicts++
		}
	}
	if conflicts > 0 {
		t.Errorf("%d getUpdates calls answered 409: two replicas polled at once", conflicts)
	}

	// Bakong checks per interval, summed over the replicas, against the
	// QRs pending in it.
	all, err := db.ListQRs(t.Context(), payments.QRFilter{})
	if err != nil {
		t.Fatal(err)
	}
	perWindow := map[int64]int{}
	sizes := map[int64][]string{} // what each window's calls asked about, for the failure message
	for _, c := range bk.Calls() {
		if strings.HasPrefix(c.Endpoint, "check_transaction_by_md5") {
			w := c.At.UnixNano() / int64(replicaInterval)
			perWindow[w]++
			sizes[w] = append(sizes[w], fmt.Sprintf("%s:%d", c.At.Format("05.000"), strings.Count(c.Body, ",")+1))
		}
	}
	worst, windows, checks, ideal := 0.0, 0, 0, 0
	for w, n := range perWindow {
		from := time.Unix(0, w*int64(replicaInterval))
		to := from.Add(replicaInterval)
		pending := 0
		for _, q := range all {
			if q.CreatedAt.Before(to) && (q.ClosedAt.IsZero() || !q.ClosedAt.Before(from)) {
				pending++
			}
		}
		want := (pending + 49) / 50
		windows, checks, ideal = windows+1, checks+n, ideal+want
		if want == 0 {
			t.Errorf("%d Bakong checks in the interval from %s with nothing pending", n, from.Format(time.TimeOnly))
			continue
		}
		r := float64(n) / float64(want)
		worst = max(worst, r)
		if r > 1 {
			t.Logf("%d Bakong checks in the interval from %s with %d pending (ideal %d); calls (second:md5s) %v", n, from.Format("15:04:05.000"), pending, want, sizes[w])
		}
		if r > 1.5 {
			t.Errorf("%d Bakong checks in the interval from %s with %d pending, want at most 1.5 × %d; calls (second:md5s) %v", n, from.Format("15:04:05.000"), pending, want, sizes[w])
		}
	}
	updates := chat.check(t, killed, reps)
	t.Logf("figures: %d replicas, %d killed; %s; Bakong checks %d in %d intervals against an ideal of %d (worst interval %.2f × ideal); takeover %s; delivery calls %d (edits of QR messages, paid notices); duplicates %d; lost %d; 409s %d; calls repeated because their replica was killed between Telegram taking them and their record %d",
		rr.procs, rr.kills, updates, checks, windows, ideal, worst, takeover.Round(time.Millisecond), delivery, dups, lost, conflicts, repeats)
}

// waitUntil polls cond (the processes are outside; their effects have no
// signal here but the fake Bot API's, which WaitFor uses where it can).
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			why := ""
			for _, f := range explain {
				why += ": " + f()
			}
			t.Fatalf("timed out after %s waiting for %s%s", d, what, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
