package bot_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// exportDocs sends /export and returns its two CSV files, parsed.
func (h *harness) exportDocs(chat int64) (invoices, payments [][]string) {
	h.t.Helper()
	h.tg.SendText(chat, chat, "/export 7d")
	var docs []telegramtest.Message
	h.waitFor("two CSV documents", func() bool {
		docs = docs[:0]
		for _, m := range h.botMessages(chat) {
			if m.DocumentFileID != "" {
				docs = append(docs, m)
			}
		}
		return len(docs) == 2
	})
	var out [2][][]string
	for i, d := range docs {
		rows, err := csv.NewReader(strings.NewReader(string(d.Document))).ReadAll()
		if err != nil {
			h.t.Fatalf("CSV %d: %v", i, err)
		}
		out[i] = rows
	}
	return out[0], out[1]
}

// TestExportNeutralisesFormulas: a note or a payer's reference that starts
// like a formula (= + - @, tab, CR) is exported as text, a leading quote
// before it as OWASP advises; our own numbers, such as a group's negative
// chat id, stay numbers.
func TestExportNeutralisesFormulas(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	notes := []string{`=HYPERLINK("http://evil.example","x")`, "+1+1", "-2+3", "@SUM(A1)"}
	for i, n := range notes {
		h.tg.SendText(admin, admin, "/pay 1 "+n)
		h.waitPhoto(admin, i+1)
	}
	h.tg.SendText(group, admin, "/pay 2 plain note")
	h.waitPhoto(group, 1)
	inv1 := h.waitPhoto(admin, 1)
	if _, err := h.sim.PayQR(scanQR(t, inv1.Photo), sim.Payment{InstructionRef: "\t=1+1"}); err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/check 1")
	h.waitText(admin, "is now: paid")

	invs, pays := h.exportDocs(admin)
	if len(invs) != 6 {
		t.Fatalf("invoices CSV has %d rows, want 6: %q", len(invs), invs)
	}
	for i, n := range notes {
		if got := invs[i+1][5]; got != "'"+n {
			t.Errorf("description %d exported as %q, want %q", i+1, got, "'"+n)
		}
	}
	if got := invs[5]; got[5] != "plain note" || got[7] != "-500" {
		t.Errorf("group invoice exported as %q, want description %q and chat id -500", got, "plain note")
	}
	if len(pays) != 2 || pays[1][12] != "'\t=1+1" {
		t.Errorf("payments CSV: %q, want instruction_ref %q", pays, "'\t=1+1")
	}
}

// TestDeeplinkTelegramRefuses: a deeplink Telegram would refuse in a URL
// button (bakong://), or one it does refuse (BUTTON_URL_INVALID), costs the
// Pay button, never the QR: the photo is sent without it and the log says why.
func TestDeeplinkTelegramRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		log   string
	}{
		{"bakong scheme", func(h *harness) {
			if err := h.sim.SetFault("generate_deeplink_by_qr", sim.Fault{ShortLink: "bakong://pay?qr=abc"}); err != nil {
				t.Fatal(err)
			}
		}, "Telegram takes only http(s) URLs with a domain"},
		{"refused by Telegram", func(h *harness) {
			h.tg.InjectError("sendPhoto", 400, "Bad Request: BUTTON_URL_INVALID", 0)
		}, "Telegram refused the deeplink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{noPolling: true})
			tc.setup(h)
			h.tg.SendText(admin, admin, "/pay 5")
			m := h.waitPhoto(admin, 1)
			if hasButton(m, "Pay with Bakong") || !hasButton(m, "Check") {
				t.Errorf("buttons %+v, want Check status and no Pay with Bakong", m.Buttons())
			}
			if logs := h.logs.String(); !strings.Contains(logs, "QR sent without its Pay button: "+tc.log) {
				t.Errorf("the log does not say why the button is missing:\n%s", logs)
			}
		})
	}
}

// TestCaptionNamesPayee: the caption names the merchant, in Khmer too, on
// the QR and on the receipt that replaces it, whatever the card draws.
func TestCaptionNamesPayee(t *testing.T) {
	const name = "ហាងកាហ្វេសុខា"
	h := newHarness(t, options{noPolling: true, merchant: name})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	if !strings.Contains(m.Caption, "Payee: "+name) {
		t.Errorf("QR caption %q does not name the payee %s", m.Caption, name)
	}
	h.tg.SendText(customer, customer, "/start", telegramtest.WithLanguage("km"))
	h.waitText(customer, "សួស្តី")
	h.tg.SendText(admin, admin, "/invoice 3 tea")
	link := h.waitText(admin, "?start=inv_")
	tok := link.Text[strings.Index(link.Text, "inv_"):]
	tok = tok[:strings.IndexAny(tok+"\n ", "\n ")]
	h.tg.SendText(customer, customer, "/start "+tok, telegramtest.WithLanguage("km"))
	km := h.waitPhoto(customer, 1)
	if !strings.Contains(km.Caption, "អ្នកទទួលប្រាក់៖ "+name) {
		t.Errorf("Khmer QR caption %q does not name the payee %s", km.Caption, name)
	}
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/check 1")
	if paid := h.waitCaption(admin, m.ID, "Paid"); !strings.Contains(paid.Caption, name) {
		t.Errorf("receipt caption %q does not name the payee %s", paid.Caption, name)
	}
}

// utf16Units is a text's length as Telegram counts it.
func utf16Units(s string) int { return len(utf16.Encode([]rune(s))) }

// TestNoteCannotFakeCaptionLines: a note's newlines (and other control
// characters) become spaces, so the note stays on its own 📝 line.
func TestNoteCannotFakeCaptionLines(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/pay 2 coffee\n✅ Paid\n💵 0.01 USD\u2028🕒 now\u202Eevil")
	m := h.waitPhoto(admin, 1)
	lines := strings.Split(m.Caption, "\n")
	var notes []string
	for _, l := range lines {
		if l == "✅ Paid" || strings.HasPrefix(l, "💵 0.01") || strings.HasPrefix(l, "🕒") {
			t.Errorf("the note wrote a line of its own, %q, into the caption:\n%s", l, m.Caption)
		}
		if strings.HasPrefix(l, "📝") {
			notes = append(notes, l)
		}
	}
	if want := "📝 coffee ✅ Paid 💵 0.01 USD 🕒 now evil"; len(notes) != 1 || notes[0] != want {
		t.Errorf("note lines %q, want [%q]", notes, want)
	}
}

// TestLongTextFitsTelegram: /pending with ten long emoji notes, and
// arguments of about 4,090 characters quoted back in errors, still get an
// answer within Telegram's 4096 UTF-16 units.
func TestLongTextFitsTelegram(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	long := strings.Repeat("💰", payments.MaxDescription) // 400 UTF-16 units
	for i := range 10 {
		h.tg.SendText(admin, admin, fmt.Sprintf("/invoice %d %s", i+1, long))
		h.waitFor("invoice link", func() bool {
			n := 0
			for _, m := range h.botMessages(admin) {
				if strings.Contains(m.Text, "?start=inv_") {
					n++
				}
			}
			return n == i+1
		})
	}
	h.tg.SendText(admin, admin, "/pending")
	p := h.waitText(admin, "page 1 of 1")
	if n := utf16Units(p.Text); n > 4096 {
		t.Errorf("/pending is %d UTF-16 units", n)
	}
	if strings.Count(p.Text, "💰") > 10*48 || !strings.Contains(p.Text, "💰…") {
		t.Errorf("/pending does not shorten its notes:\n%s", p.Text)
	}
	t.Logf("/pending with ten notes of %d UTF-16 units: %d UTF-16 units", utf16Units(long), utf16Units(p.Text))

	arg := strings.Repeat("x", 4090)
	for _, tc := range []struct{ cmd, reply string }{
		{"/pay " + arg, "I cannot read"},
		{"/check " + arg, "Usage: /check"},
		{"/verify " + arg, "is not a short hash"},
	} {
		h.tg.SendText(admin, admin, tc.cmd)
		m := h.waitText(admin, tc.reply)
		if n := utf16Units(m.Text); n > 4096 || strings.Contains(m.Text, strings.Repeat("x", 100)) {
			t.Errorf("%s…: answer of %d UTF-16 units quotes the argument whole", tc.cmd[:8], n)
		} else {
			t.Logf("%s… (%d characters): answer of %d UTF-16 units", tc.cmd[:8], utf16Units(tc.cmd), n)
		}
	}
}
