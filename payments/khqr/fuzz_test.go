package khqr

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// seedQRs adds every QR string of the vectors.
func seedQRs(f *testing.F, add func(qr string, nowMS int64)) {
	for _, v := range loadVectors(f) {
		if v.QR != nil {
			add(*v.QR, v.NowMS)
		}
	}
}

// FuzzDecode: Decode never panics or hangs, fails only with an *Error that
// points inside the string, and what it decodes marshals to valid JSON.
func FuzzDecode(f *testing.F) {
	seedQRs(f, func(qr string, _ int64) { f.Add(qr) })
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(s) || e.Code != CodeInvalid {
				t.Fatalf("error %#v", err)
			}
			return
		}
		b, err := d.MarshalJSON()
		if err != nil || !json.Valid(b) {
			t.Fatalf("JSON %s: %v", b, err)
		}
	})
}

// FuzzVerify: Verify never panics or hangs, fails only with an *Error, and
// whatever it accepts decodes into an Info that Encode takes. Each input is
// also verified with its CRC made right, so that mutations reach the rules.
func FuzzVerify(f *testing.F) {
	seedQRs(f, func(qr string, now int64) { f.Add(qr, now) })
	f.Fuzz(func(t *testing.T, s string, nowMS int64) {
		now := time.UnixMilli(nowMS)
		fixed := s + "6304"
		if n := len(s); n >= 8 && s[n-8:n-4] == "6304" {
			fixed = s[:n-4]
		}
		for _, qr := range []string{s, fixed + CRC(fixed)} {
			err := Verify(qr, now)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error %#v", err)
				}
				continue
			}
			d, err := Decode(qr)
			if err != nil {
				t.Fatalf("verified but Decode: %v", err)
			}
			info, err := d.Info()
			if err != nil {
				t.Fatalf("verified but Info: %v", err)
			}
			// A static QR may carry an amount (EMV allows it, Verify too);
			// Encode writes every amount as dynamic, so only then must the
			// Info be one Encode takes.
			if d.PointOfInitiation == "11" && d.Amount != "" {
				continue
			}
			if err := info.Validate(); err != nil {
				t.Fatalf("verified %q but Validate: %v", qr, err)
			}
		}
	})
}

// FuzzRoundTrip: whatever Encode accepts verifies, decodes to the same
// Info and encodes again to the same bytes.
func FuzzRoundTrip(f *testing.F) {
	for _, v := range vectorsOf(f, "generate_ok") {
		i, err := infoFromInput(v.Type, v.Input)
		if err != nil {
			f.Fatal(err)
		}
		var ttl int64
		if !i.ExpiresAt.IsZero() {
			ttl = i.ExpiresAt.UnixMilli() - v.NowMS
		}
		f.Add(string(i.Type), i.AccountID, i.AccountInformation, i.MerchantID, i.AcquiringBank, i.MerchantName, i.MerchantCity,
			i.MCC, i.UPI, i.Currency == USD, i.Amount, i.FixedDecimals, i.BillNumber, i.MobileNumber, i.StoreLabel,
			i.TerminalLabel, i.Purpose, i.LanguagePreference, i.MerchantNameAlt, i.MerchantCityAlt, ttl)
	}
	f.Fuzz(func(t *testing.T, typ, acc, accInfo, mid, bank, name, city, mcc, upi string, usd bool, amount int64, fixed bool,
		bill, mobile, store, terminal, purpose, pref, nameAlt, cityAlt string, ttl int64) {
		info := Info{
			Type: MerchantType(typ), AccountID: acc, AccountInformation: accInfo, MerchantID: mid, AcquiringBank: bank,
			MerchantName: name, MerchantCity: city, MCC: mcc, UPI: upi, Currency: KHR, Amount: amount, FixedDecimals: fixed,
			BillNumber: bill, MobileNumber: mobile, StoreLabel: store, TerminalLabel: terminal, Purpose: purpose,
			LanguagePreference: pref, MerchantNameAlt: nameAlt, MerchantCityAlt: cityAlt,
		}
		if usd {
			info.Currency = USD
		}
		now := time.UnixMilli(testNow)
		if ttl != 0 {
			info.ExpiresAt = now.Add(time.Duration(ttl) * time.Millisecond)
		}
		qr, err := Encode(info, now)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %#v", err)
			}
			return
		}
		if qr.MD5 != MD5(qr.String) {
			t.Fatalf("md5 %s of %s", qr.MD5, qr.String)
		}
		if err := Verify(qr.String, now); err != nil {
			t.Fatalf("Verify(%s): %v", qr.String, err)
		}
		d, err := Decode(qr.String)
		if err != nil {
			t.Fatalf("Decode(%s): %v", qr.String, err)
		}
		back, err := d.Info()
		if err != nil {
			t.Fatalf("Info(%s): %v", qr.String, err)
		}
		again, err := Encode(back, now)
		if err != nil || again != qr {
			t.Fatalf("re-encoded %q, %v\nwant %q", again.String, err, qr.String)
		}
		if back.AccountID != acc || back.MerchantName != name || back.Amount != amount || back.Currency != info.Currency ||
			back.BillNumber != bill || back.MerchantNameAlt != nameAlt || back.UPI != upi {
			t.Fatalf("decoded %+v\nencoded %+v", back, info)
		}
	})
}
