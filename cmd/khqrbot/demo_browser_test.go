package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/khqrbot/khqrbot/internal/qrtest"
	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

var update = flag.Bool("update", false, "rewrite docs/demo.png, the README's screenshot of the demo, from the browser test")

// chromium returns the path of a Chromium or Chrome binary. Without one
// the test skips locally and fails in CI, where .ci/run installs Debian's
// chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (install Debian's chromium, or set CHROMIUM to a Chrome binary): the demo's browser tests need one"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startDemo runs `khqrbot demo` in-process on a free port and returns its
// URL. It stops when the test ends, and must exit 0.
func startDemo(t *testing.T) string {
	t.Helper()
	out, errOut, stop := startCommand(t, "demo", "--addr", "127.0.0.1:0", "--qr-ttl", "10m")
	line, err := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out)
	_, url, found := strings.Cut(line, "open ")
	url, _, _ = strings.Cut(url, " ")
	t.Cleanup(func() {
		if code := stop(); code != 0 {
			t.Errorf("demo exit %d", code)
		}
		if t.Failed() {
			t.Logf("demo log:\n%s", errOut.String())
		}
	})
	if err != nil || !found {
		t.Fatalf("demo printed %q (%v), want its URL", line, err)
	}
	return url
}

// browser is a headless Chromium tab on the demo page.
type browser struct {
	t   *testing.T
	ctx context.Context
	url string
}

// step bounds each browser action: a hang detector, not a performance target.
const step = 30 * time.Second

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// attr returns the attribute name of the element sel finds.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	a, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	if err != nil {
		b.t.Fatalf("%s of %s: %v", name, sel, err)
	}
	return a.Value
}

// pane is the XPath of the chat region whose name starts with role.
func pane(role string) string {
	return fmt.Sprintf(`//section[@role="region"][starts-with(@aria-label,%q)]`, role)
}

// send types text into role's message box and presses Enter.
func (b *browser) send(role, text string) {
	b.t.Helper()
	b.run("type "+text, chromedp.SendKeys(pane(role)+`//input[@aria-label="Message"]`, text+kb.Enter))
}

// waitMessage waits for a message of the bot in role's chat whose text
// contains every part, and returns its XPath (by message id, so that it
// still finds the message once edited).
func (b *browser) waitMessage(role string, parts ...string) string {
	b.t.Helper()
	sel := pane(role) + `//li[contains(@class,"in")]`
	for _, p := range parts {
		sel += fmt.Sprintf(`[.//div[@class="text"][contains(.,%q)]]`, p)
	}
	b.run("wait for "+strings.Join(parts, ", ")+" in the "+role+" chat", chromedp.WaitVisible(sel))
	id := b.attr(sel, "data-id")
	return fmt.Sprintf(`%s//li[@data-id=%q]`, pane(role), id)
}

// click presses the button under sel whose text contains name.
func (b *browser) click(sel, name string) {
	b.t.Helper()
	b.run("press "+name, chromedp.Click(fmt.Sprintf(`%s//button[contains(.,%q)]`, sel, name)))
}

// bankPay opens the Pay with Bakong link of the QR message msg, pays with
// the bank app's button named how, and closes the app with Escape.
func (b *browser) bankPay(msg, how string) {
	b.t.Helper()
	b.click(msg, "Pay with Bakong")
	b.click(`//dialog[@id="bank"]`, how)
	b.run("bank app pays", chromedp.WaitVisible(`//p[@id="bank-result"][contains(.,"Paid")]`))
	b.run("Escape closes the bank app", chromedp.SendKeys(`//dialog[@id="bank"]//button[contains(.,"Close")]`, kb.Escape),
		chromedp.WaitNotVisible(`#bank`))
}

// TestDemoInBrowser plays the demo as a visitor does, in headless Chromium:
// one demo, one tab, the flows one after the other.
func TestDemoInBrowser(t *testing.T) {
	exe := chromium(t)
	url := startDemo(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.WindowSize(1280, 860),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	// The first action starts the browser, which lives as long as its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	b := &browser{t: t, ctx: ctx, url: url}
	b.run("open the demo", chromedp.Navigate(url),
		chromedp.EmulateViewport(1280, 860),
		chromedp.WaitVisible(pane("Merchant")+`//input[@aria-label="Message"]`),
		chromedp.WaitVisible(pane("Customer")+`//input[@aria-label="Message"]`))

	t.Run("pay 5 then simulate", func(t *testing.T) {
		b.t = t
		b.send("Merchant", "/pay 5")
		msg := b.waitMessage("Merchant", "5.00 USD", "Expires at")
		src := b.attr(msg+`//img[@alt="Photo"]`, "src")
		payload := qrOfPhoto(t, url+src)
		if err := khqr.Verify(payload, time.Now()); err != nil {
			t.Fatalf("the photo's QR %q does not verify: %v", payload, err)
		}
		d, err := khqr.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		info, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Amount != 500 || info.Currency != khqr.USD || info.AccountID != sandboxAccountID {
			t.Fatalf("QR asks for %d %s to %s, want 500 USD to %s", info.Amount, info.Currency, info.AccountID, sandboxAccountID)
		}
		b.run("press Simulate payment with the keyboard", chromedp.SendKeys(msg+`//button[contains(.,"Simulate payment")]`, kb.Enter))
		b.run("toast", chromedp.WaitVisible(`//div[@id="toasts"]/div[contains(@class,"toast")]`))
		b.run("the same message says Paid", chromedp.WaitVisible(msg+`//div[@class="text"][contains(.,"✅ Paid")]`))
	})

	t.Run("invoice link paid by the customer", func(t *testing.T) {
		b.t = t
		b.send("Merchant", "/invoice 20 USD logo design")
		b.waitMessage("Merchant", "20.00 USD", "logo design", "t.me/")
		b.run("open the link", chromedp.Click(pane("Merchant")+`//a[contains(@href,"?start=inv_")]`))
		qr := b.waitMessage("Customer", "20.00 USD", "logo design", "Expires at")
		b.bankPay(qr, "Pay exactly")
		b.run("the customer's QR says Paid", chromedp.WaitVisible(qr+`//div[@class="text"][contains(.,"✅ Paid")]`))
		b.waitMessage("Merchant", "was paid", "20.00 USD")
		screenshot(b)
	})

	t.Run("customer in Khmer", func(t *testing.T) {
		b.t = t
		b.run("switch to Khmer", chromedp.SetValue(pane("Customer")+`//select`, "km"))
		b.send("Customer", "/help")
		km := locales.New("km")
		b.waitMessage("Customer", strings.SplitN(km.T("help.all"), " ", 2)[0])
		b.click(pane("Customer"), "Menu")
		b.run("the command menu in Khmer", chromedp.WaitVisible(pane("Customer")+`//button[contains(.,"/help")][contains(.,"`+km.T("menu.help")+`")]`))
		b.run("Escape closes it", chromedp.SendKeys(pane("Customer")+`//button[contains(.,"/help")]`, kb.Escape),
			chromedp.WaitNotVisible(pane("Customer")+`//div[contains(@class,"menu")]`))
	})

	t.Run("wrong amount accepted", func(t *testing.T) {
		b.t = t
		b.send("Merchant", "/pay 7")
		msg := b.waitMessage("Merchant", "7.00 USD", "Expires at")
		b.bankPay(msg, "Pay a wrong amount")
		b.waitMessage("Merchant", "needs your review")
		b.click(msg, "Accept payment")
		b.run("the QR settles", chromedp.WaitVisible(msg+`//div[@class="text"][contains(.,"✅ Paid")]`))
	})
}

// qrOfPhoto fetches a photo the page shows and reads its QR.
func qrOfPhoto(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	png, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("photo %s: HTTP %d, %v", url, resp.StatusCode, err)
	}
	payload, err := qrtest.Read(png)
	if err != nil {
		t.Fatalf("no QR in the photo: %v", err)
	}
	return payload
}

// screenshot saves the two chats to docs/demo.png with -update; without
// it, it checks that the committed one exists.
func screenshot(b *browser) {
	b.t.Helper()
	path := filepath.Join("..", "..", "docs", "demo.png")
	if !*update {
		if _, err := os.Stat(path); err != nil {
			b.t.Errorf("%s: %v; run go test ./cmd/khqrbot -run TestDemoInBrowser -update", path, err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
