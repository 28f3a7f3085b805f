package khqr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestEncodeVectors: every generate_ok vector, byte for byte, md5 included.
func TestEncodeVectors(t *testing.T) {
	vs := vectorsOf(t, "generate_ok")
	if len(vs) != 51 {
		t.Fatalf("%d generate_ok vectors, want 51", len(vs))
	}
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			info, err := infoFromInput(v.Type, v.Input)
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			qr, err := Encode(info, v.now())
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if qr.String != *v.QR {
				t.Errorf("qr\n got %s\nwant %s", qr.String, *v.QR)
			}
			if qr.MD5 != v.MD5 {
				t.Errorf("md5 %s, want %s", qr.MD5, v.MD5)
			}
		})
	}
}

// unrepresentable lists the generate_error vectors whose input a typed Go
// API cannot express, and why. Every other one must map to an Info.
var unrepresentable = map[string]string{
	"err-name-not-string": "merchantName is a JSON object; Info.MerchantName is a string, so the compiler refuses what the SDK's constructor throws on",
}

// TestEncodeErrors: every generate_error vector is refused with the SDK's
// code and message, or is listed in unrepresentable.
func TestEncodeErrors(t *testing.T) {
	vs := vectorsOf(t, "generate_error")
	if len(vs) != 41 {
		t.Fatalf("%d generate_error vectors, want 41", len(vs))
	}
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			info, err := infoFromInput(v.Type, v.Input)
			if reason, ok := unrepresentable[v.ID]; ok {
				if !errors.Is(err, errUnrepresentable) {
					t.Fatalf("listed as unrepresentable (%s) but maps: %v", reason, err)
				}
				if v.Error.Thrown == "" {
					t.Errorf("SDK returned code %d; only thrown inputs are unrepresentable", v.Error.ErrorCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			_, err = Encode(info, v.now())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Encode: %v, want *Error code %d", err, v.Error.ErrorCode)
			}
			if e.Code != v.Error.ErrorCode || e.Message != v.Error.Message {
				t.Errorf("got %d %q (%v), want %d %q", e.Code, e.Message, err, v.Error.ErrorCode, v.Error.Message)
			}
		})
	}
	for id := range unrepresentable {
		found := false
		for _, v := range vs {
			found = found || v.ID == id
		}
		if !found {
			t.Errorf("unrepresentable lists unknown vector %s", id)
		}
	}
}

// quirkDecisions says what Encode does with each input for which the SDK
// writes a QR that is broken or not what a payment should carry.
var quirkDecisions = map[string]struct {
	accept bool // produce the SDK's bytes
	code   int  // else the code of the refusal
	why    string
}{
	"quirk-usd-amount-abc":        {code: CodeAmountInvalid, why: `"abc" is not an amount: ParseAmount refuses it; the SDK writes 5403abc`},
	"quirk-mcc-3-digits":          {code: CodeMCCLength, why: "an MCC has 4 digits (ISO 18245); 742 is 0742, the SDK writes 5203742"},
	"quirk-account-two-at":        {code: CodeAccountInvalid, why: "a Bakong account is name@bank; a@b@c is no account"},
	"quirk-currency-zero-dropped": {accept: true, why: "currency 0 is dropped by the SDK, so KHR: Currency \"\" is KHR too"},
	"quirk-city-alt-only":         {code: CodeNone, why: "tag 64 without a language preference is malformed (ts-khqr refuses it with 38)"},
	"quirk-tag62-over-99":         {code: CodeNone, why: "a 145-character template cannot be written with a 2-digit length; the SDK's own verify() rejects its output"},
	"quirk-tag30-over-99":         {code: CodeNone, why: "a 108-character template cannot be written with a 2-digit length; the SDK's own decode() hangs on its output"},
	"quirk-altname-without-pref":  {code: CodeNone, why: "the SDK crashes and returns an Error object as the QR"},
}

// TestEncodeQuirks applies quirkDecisions to every generate_quirk vector.
func TestEncodeQuirks(t *testing.T) {
	vs := vectorsOf(t, "generate_quirk")
	if len(vs) != len(quirkDecisions) {
		t.Errorf("%d quirk vectors, %d decisions", len(vs), len(quirkDecisions))
	}
	for _, v := range vs {
		t.Run(v.ID, func(t *testing.T) {
			d, ok := quirkDecisions[v.ID]
			if !ok {
				t.Fatal("no decision for this quirk")
			}
			info, err := infoFromInput(v.Type, v.Input)
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			qr, err := Encode(info, v.now())
			if d.accept {
				if err != nil || qr.String != *v.QR || qr.MD5 != v.MD5 {
					t.Errorf("got %q %v, want the SDK's %q", qr.String, err, *v.QR)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted (%s), want refusal: %s", qr.String, d.why)
			}
			if got := ErrorCode(err); got != d.code {
				t.Errorf("code %d (%v), want %d: %s", got, err, d.code, d.why)
			}
			if !strings.Contains(err.Error(), "khqr: ") || len(err.Error()) < 30 {
				t.Errorf("message %q is not clear", err)
			}
		})
	}
}

// base is a valid dynamic individual Info for the table tests.
func base() Info {
	return Info{
		AccountID:    "jonhsmith@nbcq",
		MerchantName: "Jonh Smith",
		Currency:     USD,
		Amount:       150,
		ExpiresAt:    time.UnixMilli(testNow + 600_000),
	}
}

const testNow = 1767225600000

// TestEncodeRules covers the rules no vector pins down.
func TestEncodeRules(t *testing.T) {
	long := strings.Repeat("x", 32)
	tests := []struct {
		name   string
		edit   func(*Info)
		code   int
		substr string // in the error, or in the QR when code is -1
	}{
		{"fixed decimals", func(i *Info) { i.Amount = 500; i.FixedDecimals = true }, -1, "54045.00"},
		{"fixed decimals with cents", func(i *Info) { i.Amount = 1050; i.FixedDecimals = true }, -1, "540510.50"},
		{"fixed decimals ignored for KHR", func(i *Info) { i.Currency = KHR; i.Amount = 500; i.FixedDecimals = true }, -1, "5403500"},
		{"static ignores expiry", func(i *Info) { i.Amount = 0; i.ExpiresAt = time.Time{} }, -1, "010211"},
		{"non-BMP counted twice", func(i *Info) { i.MerchantName = "Shop 😀" }, -1, "5907Shop 😀"},
		{"merchant inferred", func(i *Info) { i.MerchantID = "M1"; i.AcquiringBank = "Dev Bank" }, -1, "30360014jonhsmith@nbcq0102M10208Dev Bank"},
		{"individual with bank", func(i *Info) { i.AcquiringBank = "Dev Bank" }, -1, "29300014jonhsmith@nbcq0208Dev Bank"},
		{"all fields", func(i *Info) {
			i.Currency, i.Amount, i.UPI = KHR, 1000, "3119740116005204"
			i.BillNumber, i.MobileNumber, i.StoreLabel, i.TerminalLabel, i.Purpose = "B", "M", "S", "T", "P"
			i.LanguagePreference, i.MerchantNameAlt, i.MerchantCityAlt = "km", "ចន", "ភ្នំពេញ"
			i.MCC, i.MerchantCity = "5411", "Kampot"
		}, -1, "1516311974011600520429180014jonhsmith@nbcq52045411530311654041000"},
		{"individual with merchant ID", func(i *Info) { i.Type = Individual; i.MerchantID = "M1" }, CodeNone, "merchant KHQR"},
		{"merchant with account information", func(i *Info) {
			i.Type = Merchant
			i.MerchantID = "M"
			i.AcquiringBank = "B"
			i.AccountInformation = "x"
		}, CodeNone, "individual KHQR"},
		{"unknown type", func(i *Info) { i.Type = "31" }, CodeNone, "want 29"},
		{"account without name", func(i *Info) { i.AccountID = "@nbcq" }, CodeAccountInvalid, "name@bank"},
		{"account without bank", func(i *Info) { i.AccountID = "jonh@" }, CodeAccountInvalid, "name@bank"},
		{"invalid UTF-8", func(i *Info) { i.MerchantName = "a\xffb" }, CodeNone, "UTF-8"},
		{"individual template over 99", func(i *Info) { i.AccountID = long[:27] + "@abcd"; i.AccountInformation = long; i.AcquiringBank = long }, CodeNone, "108 characters"},
		{"MCC short", func(i *Info) { i.MCC = "742" }, CodeMCCLength, "4 digits"},
		{"MCC non-digit short", func(i *Info) { i.MCC = "7A" }, CodeMCCInvalid, "4 digits"},
		{"currency", func(i *Info) { i.Currency = "EUR" }, CodeUnsupportedCurrency, "EUR"},
		{"negative", func(i *Info) { i.Amount = -5 }, CodeAmountInvalid, "negative"},
		{"USD 14 characters", func(i *Info) { i.Amount = 1234567890123 }, CodeAmountInvalid, "14 characters"},
		{"name empty", func(i *Info) { i.MerchantName = "" }, CodeNameRequired, ""},
		{"name of 25 Khmer letters", func(i *Info) { i.MerchantName = strings.Repeat("ក", 25) }, -1, "5925ក"},
		{"alternate name without preference", func(i *Info) { i.MerchantNameAlt = "ចន" }, CodeNone, "Language preference is required"},
		{"no expiry", func(i *Info) { i.ExpiresAt = time.Time{} }, CodeExpirationRequired, ""},
		{"expiry in seconds", func(i *Info) { i.ExpiresAt = time.UnixMilli(1767226200) }, CodeExpirationLength, "13 digits"},
		{"expiry before now", func(i *Info) { i.ExpiresAt = time.UnixMilli(testNow - 1) }, CodeExpirationPast, "before the creation"},
		{"expiry at now", func(i *Info) { i.ExpiresAt = time.UnixMilli(testNow) }, -1, "0113" + "1767225600000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := base()
			tt.edit(&info)
			qr, err := Encode(info, time.UnixMilli(testNow))
			if tt.code == -1 {
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if !strings.Contains(qr.String, tt.substr) {
					t.Errorf("%s does not contain %s", qr.String, tt.substr)
				}
				if err := Verify(qr.String, time.UnixMilli(testNow)); err != nil {
					t.Errorf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %s", qr.String)
			}
			if ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("got %v, want code %d and %q", err, tt.code, tt.substr)
			}
		})
	}
}

// TestEncodeClock: the creation time is the injected clock's.
func TestEncodeClock(t *testing.T) {
	info := base()
	info.ExpiresAt = time.UnixMilli(testNow + 3_600_000)
	a, err := Encode(info, time.UnixMilli(testNow))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(info, time.UnixMilli(testNow+1))
	if err != nil {
		t.Fatal(err)
	}
	if a.MD5 == b.MD5 || !strings.Contains(b.String, "00131767225600001") {
		t.Errorf("clock not used: %s %s", a.String, b.String)
	}
	if _, err := Encode(info, time.Unix(0, 0)); ErrorCode(err) != CodeNone {
		t.Errorf("clock at 1970: %v, want a clock error", err)
	}
}
