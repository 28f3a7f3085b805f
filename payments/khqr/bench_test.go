package khqr

import (
	"testing"
	"time"
)

// fullInfo is a dynamic merchant QR with every optional field.
func fullInfo() Info {
	return Info{
		AccountID:          "coffee@wing",
		MerchantID:         "123456",
		AcquiringBank:      "Bakong",
		MerchantName:       "Ishin Coffee",
		MerchantCity:       "Phnom Penh",
		MCC:                "5814",
		Currency:           KHR,
		Amount:             105000,
		UPI:                "3119740116005204",
		BillNumber:         "INV-2026-001",
		MobileNumber:       "85512345678",
		StoreLabel:         "Main Branch",
		TerminalLabel:      "Cashier_1",
		Purpose:            "Coffee",
		LanguagePreference: "km",
		MerchantNameAlt:    "កាហ្វេ",
		MerchantCityAlt:    "ភ្នំពេញ",
		ExpiresAt:          time.UnixMilli(testNow + 600_000),
	}
}

func BenchmarkEncode(b *testing.B) {
	info, now := fullInfo(), time.UnixMilli(testNow)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(info, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	qr, err := Encode(fullInfo(), time.UnixMilli(testNow))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(qr.String); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	now := time.UnixMilli(testNow)
	qr, err := Encode(fullInfo(), now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(qr.String, now); err != nil {
			b.Fatal(err)
		}
	}
}
