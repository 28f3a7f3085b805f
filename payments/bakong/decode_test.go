package bakong

import (
	"strings"
	"testing"
)

func TestScaled(t *testing.T) {
	tests := []struct {
		in    string
		dec   int
		exact bool
		want  int64
		err   string
	}{
		{"1.0", 2, true, 100, ""},
		{"1", 2, true, 100, ""},
		{"0.01", 2, true, 1, ""},
		{"1.5", 2, true, 150, ""},
		{"1.50", 2, true, 150, ""},
		{"1.500", 2, true, 150, ""},
		{"9800", 0, true, 9800, ""},
		{"9800.0", 0, true, 9800, ""},
		{"1.0E7", 0, true, 10000000, ""},
		{"1e2", 2, true, 10000, ""},
		{"15e-1", 2, true, 150, ""},
		{"1E+2", 0, true, 100, ""},
		{"0", 2, true, 0, ""},
		{"0.00", 2, true, 0, ""},
		{"007", 0, true, 7, ""},
		{"0e9999", 0, true, 0, ""},
		{"1605774370608.0", 0, false, 1605774370608, ""},
		{"1605774370608.7", 0, false, 1605774370608, ""},
		{"1.605774370608E12", 0, false, 1605774370608, ""},
		{"5e-10", 0, false, 0, ""},
		{"922337203685477580", 0, true, 922337203685477580, ""},
		{"1.005", 2, true, 0, "more than 2 decimal places"},
		{"9800.5", 0, true, 0, "more than 0 decimal places"},
		{"5e-10", 2, true, 0, "decimal places"},
		{"9223372036854775808", 0, true, 0, "too large"},
		{"1e30", 2, true, 0, "too large"},
		{"1e99999", 2, true, 0, "not a non-negative"},
		{"-1", 2, true, 0, "not a non-negative"},
		{"", 2, true, 0, "not a non-negative"},
		{"1.", 2, true, 0, "not a non-negative"},
		{".5", 2, true, 0, "not a non-negative"},
		{"1,000", 0, true, 0, "not a non-negative"},
		{"1e", 0, true, 0, "not a non-negative"},
		{" 1", 0, true, 0, "not a non-negative"},
		{"NaN", 0, true, 0, "not a non-negative"},
	}
	for _, tt := range tests {
		got, err := scaled(tt.in, tt.dec, tt.exact)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("scaled(%q, %d) = %d, %v; want error %q", tt.in, tt.dec, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("scaled(%q, %d) = %d, %v; want %d", tt.in, tt.dec, got, err, tt.want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		v    int64
		dec  int
		want string
	}{{150, 2, "1.50"}, {1, 2, "0.01"}, {10, 2, "0.10"}, {100000, 2, "1000.00"}, {9800, 0, "9800"}, {0, 2, "0.00"}}
	for _, tt := range tests {
		if got := formatMinor(tt.v, tt.dec); got != tt.want {
			t.Errorf("formatMinor(%d, %d) = %q, want %q", tt.v, tt.dec, got, tt.want)
		}
	}
}

func FuzzScaled(f *testing.F) {
	for _, s := range []string{"1.0", "0.01", "9800", "1.0E7", "1605774370608.0", "1.005", "-1", "1e-3", "00.10"} {
		f.Add(s, 2)
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, dec int) {
		dec &= 3
		v, err := scaled(s, dec, true)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("scaled(%q) = %d < 0", s, v)
		}
		back, err := scaled(formatMinor(v, dec), dec, true)
		if err != nil || back != v {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, v, formatMinor(v, dec), back, err)
		}
		if loose, err := scaled(s, dec, false); err != nil || loose != v {
			t.Fatalf("loose scaled(%q) = %d, %v; exact %d", s, loose, err, v)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{docPaid, docLive, docNotFound, doc401, nginx403, ok(tx(`"1.0"`, "USD", "1605774370608.0")), `{"responseCode":"0"}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		a, err := decodeEnvelope([]byte(body))
		if err != nil {
			return
		}
		if tx, err := decodeTransaction(a.data); err == nil && (tx.Amount < 0 || tx.Hash == "") {
			t.Fatalf("bad transaction accepted: %+v", tx)
		}
		got, _ := decodeItems(a.data, "md5")
		for k, r := range got {
			if k == "" || r.Status == ItemSuccess && r.Transaction == nil {
				t.Fatalf("item %q: %+v", k, r)
			}
		}
	})
}
