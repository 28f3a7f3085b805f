package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestFormatMajor(t *testing.T) {
	tests := []struct {
		minor    int64
		decimals int
		short    string
		fixed    string
	}{
		{100, 2, "1", "1.00"},
		{150, 2, "1.5", "1.50"},
		{1, 2, "0.01", "0.01"},
		{10050, 2, "100.5", "100.50"},
		{123456789012, 2, "1234567890.12", "1234567890.12"},
		{9800, 0, "9800", "9800"},
		{0, 2, "0", "0.00"},
	}
	for _, tt := range tests {
		if got := formatMajor(tt.minor, tt.decimals, false); got != tt.short {
			t.Errorf("formatMajor(%d, %d) = %q, want %q", tt.minor, tt.decimals, got, tt.short)
		}
		if got := formatMajor(tt.minor, tt.decimals, true); got != tt.fixed {
			t.Errorf("formatMajor(%d, %d, fixed) = %q, want %q", tt.minor, tt.decimals, got, tt.fixed)
		}
	}
}

func TestParseMajor(t *testing.T) {
	tests := []struct {
		s        string
		decimals int
		want     int64 // 0 = error
	}{
		{"1", 2, 100},
		{"1.0", 2, 100},
		{"1.50", 2, 150},
		{"0.01", 2, 1},
		{"1e2", 2, 10000},
		{"9800", 0, 9800},
		{"9800.0", 0, 9800},
		{"0.001", 2, 0},
		{"1.5", 0, 0},
		{"0", 2, 0},
		{"-1", 2, 0},
		{"1/2", 2, 0},
		{"ten", 2, 0},
		{"", 2, 0},
		{"99999999999999999999", 2, 0},
		{"1e999999999", 2, 0},
		{"1e-40", 2, 0},
		{"1e+1", 0, 10},
		{".5", 2, 0},
		{"5.", 2, 0},
		{"0x10", 2, 0},
		{"+1", 2, 0},
	}
	for _, tt := range tests {
		got, err := parseMajor(tt.s, tt.decimals)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("parseMajor(%q, %d) = %d, %v; want %d", tt.s, tt.decimals, got, err, tt.want)
		}
	}
}

// FuzzParseMajor checks that every accepted amount formats back to the same value.
func FuzzParseMajor(f *testing.F) {
	for _, s := range []string{"1", "1.0", "0.01", "1e2", "9800", "-1", "1/2", "1e-400", "1e400"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, decimals int) {
		decimals = ((decimals % 3) + 3) % 3
		v, err := parseMajor(s, decimals)
		if err != nil {
			return
		}
		if v <= 0 {
			t.Fatalf("parseMajor(%q) = %d", s, v)
		}
		back, err := parseMajor(formatMajor(v, decimals, false), decimals)
		if err != nil || back != v {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, v, formatMajor(v, decimals, false), back, err)
		}
	})
}

// FuzzAPI checks that any body on any endpoint gets the four-key envelope or,
// for a refused body, still a JSON envelope; nothing panics.
func FuzzAPI(f *testing.F) {
	s := New(Options{})
	tok := s.IssueToken("fuzz@example.com")
	paths := make([]string, 0, len(endpoints))
	for p := range endpoints {
		paths = append(paths, p)
	}
	for i, b := range []string{`{"md5":"x"}`, `["a","b"]`, `{"hash":"12345678","amount":1e400,"currency":"USD"}`,
		`{"qr":"0002010102","sourceInfo":{}}`, `null`, `[]`, `{"accountId":"a@b"}`, `{"email":"a@b"}`, `{"code":"` + "0123456789abcdefghij" + `"}`} {
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &keys); err != nil || len(keys) != 4 {
			t.Fatalf("%s %q: HTTP %d %q", path, body, w.Code, w.Body)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusUnauthorized {
			t.Fatalf("%s %q: HTTP %s", path, body, strconv.Itoa(w.Code))
		}
	})
}
