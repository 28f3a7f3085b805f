package khqr

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stricter lists the verify vectors the SDK accepts and Verify rejects, with
// the code Verify gives. The package documentation explains each decision.
var stricter = map[string]int{
	"ver-lenient-khr-decimals":      CodeAmountInvalid,
	"ver-lenient-merchant-no-mid":   CodeMerchantIDRequired,
	"ver-lenient-static-expired-99": CodeExpired,
	"ver-lenient-no-poi":            CodePOIInvalid,
	"ver-lenient-country-us":        CodeNone,
}

// TestVerifyVectors: Verify agrees with the SDK on every verify vector,
// with ts-khqr's code when the SDK rejects, except the stricter decisions.
func TestVerifyVectors(t *testing.T) {
	vs := vectorsOf(t, "verify")
	if len(vs) != 41 {
		t.Fatalf("%d verify vectors, want 41", len(vs))
	}
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			err := Verify(*v.QR, v.now())
			if code, ok := stricter[v.ID]; ok {
				if !*v.Verify {
					t.Fatal("listed as stricter but the SDK rejects it too")
				}
				if err == nil || ErrorCode(err) != code {
					t.Errorf("got %v, want code %d", err, code)
				}
				return
			}
			if *v.Verify {
				if err != nil {
					t.Errorf("SDK accepts, Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("SDK rejects with %d, Verify accepts", v.Detail.ErrorCode)
			}
			e := err.(*Error)
			if e.Code != v.Detail.ErrorCode || e.Message != v.Detail.Message {
				t.Errorf("got %v, want %d %q", err, v.Detail.ErrorCode, v.Detail.Message)
			}
		})
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for id, code := range stricter {
		if !strings.HasPrefix(id, "ver-lenient-") {
			t.Errorf("%s: only ver-lenient-* vectors may be decided stricter", id)
		}
		item := "//   - " + id + ", code " + strconv.Itoa(code)
		if !strings.Contains(string(doc), item+":") && !strings.Contains(string(doc), item+" (") {
			t.Errorf("%s: the package documentation does not list this decision with code %d", id, code)
		}
	}
}

// TestVerifyGenerated: every QR the SDK generates verifies until its
// expiration and, when dynamic, fails with 46 one millisecond after.
func TestVerifyGenerated(t *testing.T) {
	for _, v := range vectorsOf(t, "generate_ok") {
		t.Run(v.ID, func(t *testing.T) {
			if err := Verify(*v.QR, v.now()); err != nil {
				t.Errorf("at now: %v", err)
			}
			if v.VerifyAfter == nil {
				return
			}
			d, err := Decode(*v.QR)
			if err != nil {
				t.Fatal(err)
			}
			exp, err := d.Info()
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(*v.QR, exp.ExpiresAt); err != nil {
				t.Errorf("at expiry: %v", err)
			}
			if err := Verify(*v.QR, exp.ExpiresAt.Add(time.Millisecond)); ErrorCode(err) != CodeExpired {
				t.Errorf("after expiry: %v, want code 46", err)
			}
		})
	}
}

// quirkVerify is what Verify says of the QRs the SDK generates for the
// quirk inputs: the broken ones fail as in the SDK; the others follow the
// same rules as Encode (see quirkDecisions).
var quirkVerify = map[string]int{
	"quirk-usd-amount-abc":        CodeAmountInvalid,
	"quirk-mcc-3-digits":          CodeMCCLength,
	"quirk-account-two-at":        CodeAccountInvalid,
	"quirk-currency-zero-dropped": -1,
	"quirk-city-alt-only":         CodeNone,
	"quirk-tag62-over-99":         CodeCRCRequired,
	"quirk-tag30-over-99":         CodeMCCRequired, // the walk derails inside tag 30 and never sees tag 52
}

func TestVerifyQuirks(t *testing.T) {
	for _, v := range vectorsOf(t, "generate_quirk") {
		if v.QR == nil {
			continue
		}
		t.Run(v.ID, func(t *testing.T) {
			want, ok := quirkVerify[v.ID]
			if !ok {
				t.Fatal("no decision")
			}
			err := Verify(*v.QR, v.now())
			if want == -1 {
				if err != nil {
					t.Errorf("Verify: %v", err)
				}
				return
			}
			if err == nil || ErrorCode(err) != want {
				t.Errorf("got %v, want code %d", err, want)
			}
		})
	}
}

// withCRC appends "6304" and the CRC to a payload.
func withCRC(payload string) string {
	return payload + "6304" + CRC(payload+"6304")
}

// TestVerifyRules covers rules no vector pins down.
func TestVerifyRules(t *testing.T) {
	const (
		head   = "000201010212"
		acc    = "29180014jonhsmith@nbcq"
		mid    = "520459995303840"
		tail   = "5802KH5910Jonh Smith6010Phnom Penh"
		ts     = "99340013176722560000001131767226200000"
		static = "00020101021129180014jonhsmith@nbcq520459995303116" + tail
	)
	at := time.UnixMilli(testNow)
	tests := []struct {
		name   string
		qr     string
		code   int // -1: valid
		substr string
	}{
		{"valid", withCRC(head + acc + mid + "54031.5" + tail + ts), -1, ""},
		{"amount 3 decimals", withCRC(head + acc + mid + "54051.505" + tail + ts), CodeAmountInvalid, "at most 2 decimals"},
		{"amount zero", withCRC(head + acc + mid + "54010" + tail + ts), CodeAmountInvalid, "positive"},
		{"amount not a number", withCRC(head + acc + mid + "54031e3" + tail + ts), CodeAmountInvalid, "decimal number"},
		{"amount negative", withCRC(head + acc + mid + "5402-1" + tail + ts), CodeAmountInvalid, ""},
		{"payload format 02", withCRC("000202010211" + acc + "520459995303116" + tail), CodeNone, "must be 01"},
		{"UPI with USD", withCRC("0002010102111504abcd" + acc + mid + tail), CodeUPICurrency, ""},
		{"tag 30 without bank", withCRC("00020101021130240014jonhsmith@nbcq0102M1520459995303116" + tail), CodeAcquiringBankRequired, ""},
		{"both 29 and 30", withCRC("000201010211" + acc + "30180014jonhsmith@nbcq520459995303116" + tail), CodeNone, "twice"},
		{"duplicate tag apart", withCRC(static + "5802KH"), CodeNone, "twice"},
		{"tag 64 without preference", withCRC(static + "64060102ចន"), CodeNone, "Language preference"},
		{"tag 64 preference only", withCRC(static + "64060002km"), CodeNameAltRequired, ""},
		{"tag 62 mobile too long", withCRC(static + "62300226" + strings.Repeat("1", 26)), CodeMobileLength, "26 characters"},
		{"template length runs past", withCRC(static + "62070109abc"), CodeInvalid, "runs past"},
		{"template length not digits", withCRC(static + "62060x0abc"), CodeInvalid, "want 2 digits"},
		{"amount leading zero", withCRC(head + acc + mid + "540405.5" + tail + ts), CodeAmountInvalid, "leading zero"},
		{"amount whose SDK form is too long", withCRC(head + acc + mid + "541312345678901.2" + tail + ts), CodeAmountInvalid, "over 13 characters"},
		{"amount of 13 characters in SDK form", withCRC(head + acc + mid + "54131234567890.12" + tail + ts), -1, ""},
		{"static with an amount", withCRC("000201010211" + acc + mid + "54031.5" + tail + ts), -1, ""},
		{"static expiry in the future", withCRC(static + ts), -1, ""},
		{"static expiry in seconds", withCRC(static + "99310013" + "1767225600000" + "0110" + "1767226200"), CodeExpirationLength, "99.01"},
		{"static expiry before creation", withCRC(static + "99340013" + "1767225600000" + "0113" + "1767225599999"), CodeExpirationPast, "before creation"},
		{"merchant account a@b@c", withCRC("00020101021129150011jon@nbc@xyz520459995303116" + tail), CodeAccountInvalid, "name@bank"},
		{"MCC 3 digits", withCRC("000201010211" + acc + "5203742" + "5303116" + tail), CodeMCCLength, "4 digits"},
		{"static creation 14 digits", withCRC(static + "99180014" + "17672256000000"), CodeExpirationLength, "99.00"},
		{"dynamic without creation", withCRC(head + acc + mid + "54031.5" + tail + "99170113" + "1767226200000"), -1, ""},
		{"top-level length not digits", withCRC(static + "59xx"), CodeCRCRequired, "want 2 digits"},
		{"walk broken before a required tag", withCRC("000201010211" + acc + "5204599953x3116" + tail), CodeCurrencyRequired, "missing: the TLV walk stopped"},
		{"not UTF-8", "\xff" + withCRC(static), CodeInvalid, "UTF-8"},
		{"no CRC", static, CodeInvalid, "6304"},
		{"too short", withCRC(""), CodeInvalid, "too short"},
		{"MCC non-digit", withCRC("000201010211" + acc + "520459A95303116" + tail), CodeMCCInvalid, ""},
		{"POI empty", withCRC("0002010100" + acc + "520459995303116" + tail), CodePOILength, ""},
		{"account without @", withCRC("00020101021129130009jonhsmith520459995303116" + tail), CodeAccountInvalid, ""},
		{"tag 29 without account", withCRC("00020101021129060102ab520459995303116" + tail), CodeAccountRequired, ""},
		{"CRC inside another field", withCRC(static[:len(static)-14] + "6304abcd" + "6010PP"), CodeNone, "must be the last"},
		{"city too long", withCRC("000201010211" + acc + "520459995303116" + "5802KH5910Jonh Smith6016" + strings.Repeat("C", 16)), CodeCityLength, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.qr, at)
			if tt.code == -1 {
				if err != nil {
					t.Errorf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %s", tt.qr)
			}
			if ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("got %v, want code %d and %q", err, tt.code, tt.substr)
			}
		})
	}
}
