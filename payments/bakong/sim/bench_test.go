package sim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// benchCall measures one API call through ServeHTTP, without the network.
func benchCall(b *testing.B, path, body string) {
	s := sim.New(sim.Options{})
	tok := s.IssueToken(email)
	if _, err := s.PayQR(qrUSD1, sim.Payment{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
}

func BenchmarkCheckMD5(b *testing.B) {
	benchCall(b, "/v1/check_transaction_by_md5", `{"md5":"`+md5USD1+`"}`)
}

func BenchmarkCheckMD5List50(b *testing.B) {
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = md5USD1
	}
	benchCall(b, "/v1/check_transaction_by_md5_list", js(keys))
}
