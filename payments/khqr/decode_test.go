package khqr

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeRefused lists the vectors whose string Decode refuses while the
// SDK's decode() returns something (or hangs), and why.
var decodeRefused = map[string]string{
	"quirk-tag62-over-99":           "3-digit template length: the SDK spreads garbage keys \"0\"..\"13\" into its result",
	"quirk-tag30-over-99":           "3-digit template length: the SDK's decode() never returns",
	"ver-duplicate-consecutive-tag": "tag 60 twice: the SDK stops reading there and reports crc null",
	"ver-truncated-1":               "the CRC's length 04 runs past the end: the SDK reports a 3-character CRC",
	"ver-truncated-half":            "the string ends inside tag 52: the SDK reports a partial value",
	"ver-tag62-over-99":             "the string of quirk-tag62-over-99",
}

// TestDecodeVectors: Decode's JSON equals the SDK's decode() on every vector
// that has both, but for the key pointOfInitiationMethod (SDK:
// pointofInitiationMethod) and the strings listed in decodeRefused.
func TestDecodeVectors(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		if v.QR == nil || len(v.Decode) == 0 {
			continue
		}
		n++
		t.Run(v.ID, func(t *testing.T) {
			d, err := Decode(*v.QR)
			if why, ok := decodeRefused[v.ID]; ok {
				if err == nil {
					t.Fatalf("listed as refused (%s) but decodes", why)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var want map[string]any
			if err := json.Unmarshal(v.Decode, &want); err != nil {
				t.Fatal(err)
			}
			want["pointOfInitiationMethod"] = want["pointofInitiationMethod"]
			delete(want, "pointofInitiationMethod")
			b, err := d.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if !maps.Equal(got, want) {
				for k := range want {
					if got[k] != want[k] {
						t.Errorf("%s: got %v, want %v", k, got[k], want[k])
					}
				}
				if len(got) != len(want) {
					t.Errorf("%d keys, want %d", len(got), len(want))
				}
			}
		})
	}
	if n != 99 {
		t.Errorf("%d vectors with a decode() result, want 99", n)
	}
}

// TestDecodeJSONOrder: keys come in the SDK's order, and strings are
// escaped as JavaScript would (no HTML escaping).
func TestDecodeJSONOrder(t *testing.T) {
	d := &Decoded{MerchantType: Individual, MerchantName: `A&B "<x>"` + "\x01", CRC: "ABCD"}
	b, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %s", b)
	}
	s := string(b)
	if !strings.HasPrefix(s, `{"merchantType":"29","bakongAccountID":null,`) || !strings.HasSuffix(s, `"merchantName":"A&B \"<x>\"\u0001","merchantCity":null,"crc":"ABCD"}`) {
		t.Errorf("JSON %s", s)
	}
	if strings.Count(s, `":`) != 25 {
		t.Errorf("want 25 keys: %s", s)
	}
}

// TestDecodeErrors: malformed strings fail with the tag, the offset and what
// was expected.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		field    string
		offset   int
		substr   string
	}{
		{"short tail", "000201X", "", 6, "too short"},
		{"tag not digits", "0002010a02", "", 6, "tag \"0a\""},
		{"length not digits", "00020101x2", "tag 01", 6, "length \"x2\""},
		{"runs past", "000201010512", "tag 01", 6, "runs past the end"},
		{"splits a surrogate pair", "5901😀", "tag 59", 0, "inside a character"},
		{"invalid UTF-8", "59020\xff", "", 5, "UTF-8"},
		{"repeated", "000201000201", "tag 00", 6, "repeated"},
		{"repeated apart", "000201010211000201", "tag 00", 12, "twice"},
		{"29 and 30", "2904000030040000", "tag 30", 8, "twice"},
		{"bad sub-length", "000201621001x1abcdef", "tag 62.01", 10, "length \"x1\""},
		{"sub-tag twice", "62120102ab0102ab", "tag 62.01", 10, "repeated"},
		{"sub-tag twice apart", "62180102ab0302cd0102ab", "tag 62.01", 16, "sub-tag repeated"},
		{"99 sub runs past", "9906001312", "tag 99.00", 4, "runs past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want *Error", err)
			}
			if e.Field != tt.field || e.Offset != tt.offset || !strings.Contains(e.Detail, tt.substr) || e.Code != CodeInvalid {
				t.Errorf("got %+v (%v), want field %q offset %d detail %q", e, err, tt.field, tt.offset, tt.substr)
			}
		})
	}
}

// TestDecodeLenient: like the SDK, Decode skips unknown tags and does not
// need the CRC or any particular tag.
func TestDecodeLenient(t *testing.T) {
	for _, s := range []string{"", "000201", "0510abcdefghij0002016804abcd", "5907Shop 😀"} {
		if _, err := Decode(s); err != nil {
			t.Errorf("Decode(%q): %v", s, err)
		}
	}
	d, err := Decode("5907Shop 😀6504zzzz")
	if err != nil || d.MerchantName != "Shop 😀" {
		t.Fatalf("got %+v, %v", d, err)
	}
	if !utf8.ValidString(d.MerchantName) {
		t.Error("invalid UTF-8")
	}
}

// TestDecodedInfo: Info() inverts Encode.
func TestDecodedInfo(t *testing.T) {
	for _, v := range vectorsOf(t, "generate_ok") {
		t.Run(v.ID, func(t *testing.T) {
			d, err := Decode(*v.QR)
			if err != nil {
				t.Fatal(err)
			}
			info, err := d.Info()
			if err != nil {
				t.Fatal(err)
			}
			qr, err := Encode(info, v.now())
			if err != nil {
				t.Fatal(err)
			}
			if qr.String != *v.QR {
				t.Errorf("re-encoded\n got %s\nwant %s", qr.String, *v.QR)
			}
			created, err := d.CreatedAt()
			if err != nil || (d.CreationTimestamp != "" && created.UnixMilli() != v.NowMS) {
				t.Errorf("CreatedAt %v %v", created, err)
			}
		})
	}
	bad := []struct{ name, qr string }{
		{"no account", "5303116"},
		{"no currency", "29040000"},
		{"currency", "290400005303764"},
		{"amount", "2904000053031165404abcd"},
		{"expiry", "29040000530311699060102ab"},
		{"creation", "99060002ab"},
	}
	for _, b := range bad {
		d, err := Decode(b.qr)
		if err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		_, err = d.Info()
		if b.name == "creation" {
			_, err = d.CreatedAt()
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%s: %v, want *Error", b.name, err)
		}
	}
}
