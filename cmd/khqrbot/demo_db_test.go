package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoKeepsDatabase: a second `khqrbot demo --db FILE` on the file an
// earlier run kept answers its merchant, and finds the earlier invoice. The
// bot keeps the ids of the updates it handled and skips those it has seen:
// each run's local Bot API must number its updates above the last run's.
func TestDemoKeepsDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	for run := 1; run <= 2; run++ {
		url, stop := demoWithDB(t, db)
		demoSend(t, url, "/pay 5")
		demoWaitFor(t, url, fmt.Sprintf("INV-%06d", run))
		if run == 2 {
			demoSend(t, url, "/pending")
			demoWaitFor(t, url, "INV-000001")
		}
		if code := stop(); code != 0 {
			t.Fatalf("run %d: demo exit %d", run, code)
		}
	}
}

// demoWithDB starts `khqrbot demo` on db and returns its URL and a
// function that stops it and returns its exit code.
func demoWithDB(t *testing.T, db string) (string, func() int) {
	t.Helper()
	out, errOut, stop := startCommand(t, "demo", "--addr", "127.0.0.1:0", "--db", db)
	line, err := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out)
	_, url, found := strings.Cut(line, "open ")
	url, _, _ = strings.Cut(url, " ")
	if err != nil || !found {
		stop()
		t.Fatalf("demo printed %q (%v), want its URL; log:\n%s", line, err, errOut.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("demo log:\n%s", errOut.String())
		}
	})
	return url, stop
}

// demoSend sends text to the bot as the demo's merchant.
func demoSend(t *testing.T, url, text string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"user": demoMerchant.ID, "text": text})
	resp, err := http.Post(url+"/demo/send", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send %q: HTTP %d", text, resp.StatusCode)
	}
}

// demoWaitFor waits until a message of the bot to the merchant holds s.
func demoWaitFor(t *testing.T, url, s string) {
	t.Helper()
	var seen []string
	for deadline := time.Now().Add(waitLong); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) { // the page's state has no signal but its event stream
		var st struct {
			Chats map[string][]struct {
				FromBot bool   `json:"fromBot"`
				Text    string `json:"text"`
				Caption string `json:"caption"`
			} `json:"chats"`
		}
		resp, err := http.Get(url + "/demo/state")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen = seen[:0]
		for _, m := range st.Chats[fmt.Sprint(demoMerchant.ID)] {
			if m.FromBot && strings.Contains(m.Text+m.Caption, s) {
				return
			}
			seen = append(seen, m.Text+m.Caption)
		}
	}
	t.Fatalf("the bot never told the merchant %q; the chat shows %q", s, seen)
}
