package bot

import (
	"errors"
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

func TestParseAmount(t *testing.T) {
	usd := func(c int64) payments.Money { return payments.Money{Amount: c, Currency: payments.USD} }
	khr := func(r int64) payments.Money { return payments.Money{Amount: r, Currency: payments.KHR} }
	tests := []struct {
		in   string
		def  payments.Currency
		want payments.Money
	}{
		{"5", payments.USD, usd(500)},
		{"5.5", payments.USD, usd(550)},
		{"5.50", payments.USD, usd(550)},
		{"0.01", payments.USD, usd(1)},
		{"$5", payments.KHR, usd(500)},
		{"5$", payments.KHR, usd(500)},
		{"5usd", payments.KHR, usd(500)},
		{"5USD", payments.KHR, usd(500)},
		{"5 USD", payments.KHR, usd(500)},
		{"USD 5", payments.KHR, usd(500)},
		{"$ 5", payments.KHR, usd(500)},
		{"$5usd", payments.KHR, usd(500)},
		{"5 dollars", payments.KHR, usd(500)},
		{"5 ដុល្លារ", payments.KHR, usd(500)},
		{"10000", payments.KHR, khr(10000)},
		{"10000", payments.USD, usd(1000000)},
		{"10,000៛", payments.USD, khr(10000)},
		{"៛10,000", payments.USD, khr(10000)},
		{"១០០០០", payments.KHR, khr(10000)},
		{"១០,០០០៛", payments.USD, khr(10000)},
		{"៥.៥០", payments.USD, usd(550)},
		{"KHR 10000", payments.USD, khr(10000)},
		{"khr10000", payments.USD, khr(10000)},
		{"10000 riel", payments.USD, khr(10000)},
		{"10000 រៀល", payments.USD, khr(10000)},
		{"1,234,567", payments.KHR, khr(1234567)},
		{"  7  ", payments.USD, usd(700)},
		{"007", payments.USD, usd(700)},
		{"1000000000", payments.USD, usd(payments.MaxAmount)},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.def)
		if err != nil || got != tt.want {
			t.Errorf("ParseAmount(%q, %s) = %v, %v; want %v", tt.in, tt.def, got, err, tt.want)
		}
	}
}

func TestParseAmountErrors(t *testing.T) {
	tests := []struct {
		in   string
		def  payments.Currency
		want AmountProblem
	}{
		{"", payments.USD, AmountMissing},
		{"   ", payments.USD, AmountMissing},
		{"abc", payments.USD, AmountSyntax},
		{"five", payments.USD, AmountSyntax},
		{"-5", payments.USD, AmountSyntax},
		{"5.", payments.USD, AmountSyntax},
		{".5", payments.USD, AmountSyntax},
		{"5,5", payments.USD, AmountSyntax},
		{"1,0000", payments.KHR, AmountSyntax},
		{"10 000", payments.KHR, AmountSyntax},
		{"5e3", payments.USD, AmountSyntax},
		{"0x10", payments.USD, AmountSyntax},
		{"USD", payments.USD, AmountSyntax},
		{"$", payments.USD, AmountSyntax},
		{"5.5.5", payments.USD, AmountSyntax},
		{"5€", payments.USD, AmountSyntax},
		{"٥", payments.USD, AmountSyntax},
		{"5.555", payments.USD, AmountUSDDecimals},
		{"$0.001", payments.KHR, AmountUSDDecimals},
		{"10000.5", payments.KHR, AmountKHRDecimals},
		{"10.00៛", payments.USD, AmountKHRDecimals},
		{"0", payments.USD, AmountZero},
		{"0.00", payments.USD, AmountZero},
		{"$0", payments.USD, AmountZero},
		{"1000000000.01", payments.USD, AmountTooLarge},
		{"100000000001", payments.KHR, AmountTooLarge},
		{"99999999999999999999999999", payments.KHR, AmountTooLarge},
		{"$5 KHR", payments.USD, AmountCurrencies},
		{"៛5usd", payments.USD, AmountCurrencies},
	}
	for _, tt := range tests {
		_, err := ParseAmount(tt.in, tt.def)
		var ae *AmountError
		if !errors.As(err, &ae) || ae.Problem != tt.want {
			t.Errorf("ParseAmount(%q, %s) error = %v; want problem %s", tt.in, tt.def, err, tt.want)
		}
	}
}

// TestAmountErrorText checks that every refusal is phrased in both
// languages and says what would have been accepted.
func TestAmountErrorText(t *testing.T) {
	tests := []struct {
		in  string
		def payments.Currency
		en  string // a fragment of the English text
		km  string // a fragment of the Khmer text
	}{
		{"", payments.USD, "/pay 10000 KHR", "សូមប្រាប់ចំនួនទឹកប្រាក់"},
		{"abc", payments.USD, "I understand 5, 5.50, $5", "ខ្ញុំអាចអានទម្រង់ទាំងនេះ៖ 5, 5.50, $5"},
		{"5.555", payments.USD, "at most two decimals", "ទសភាគ"},
		{"100.5៛", payments.USD, "KHR takes no decimals", "គ្មានខ្ទង់ទសភាគ"},
		{"0", payments.USD, "more than zero", "ធំជាងសូន្យ"},
		{"2000000000", payments.USD, "1,000,000,000.00 USD", "1,000,000,000.00 USD"},
		{"200000000000៛", payments.USD, "100,000,000,000 KHR", "100,000,000,000 KHR"},
		{"$5 KHR", payments.USD, "two currencies", "រូបិយប័ណ្ណពីរ"},
	}
	for _, tt := range tests {
		_, err := ParseAmount(tt.in, tt.def)
		if err == nil {
			t.Fatalf("ParseAmount(%q): no error", tt.in)
		}
		for lang, want := range map[string]string{locales.English: tt.en, locales.Khmer: tt.km} {
			got := amountText(locales.New(lang), err)
			if !strings.Contains(got, want) || strings.Contains(got, "%!") {
				t.Errorf("%s text for %q = %q; want it to contain %q", lang, tt.in, got, want)
			}
		}
	}
}

func TestParseAmountArgs(t *testing.T) {
	tests := []struct {
		args, rest string
		want       payments.Money
	}{
		{"5", "", payments.Money{Amount: 500, Currency: payments.USD}},
		{"5 coffee and cake", "coffee and cake", payments.Money{Amount: 500, Currency: payments.USD}},
		{"5 USD coffee", "coffee", payments.Money{Amount: 500, Currency: payments.USD}},
		{"KHR 10000 rice", "rice", payments.Money{Amount: 10000, Currency: payments.KHR}},
		{"10000 KHR", "", payments.Money{Amount: 10000, Currency: payments.KHR}},
		{"10,000៛  two  bowls", "two  bowls", payments.Money{Amount: 10000, Currency: payments.KHR}},
		{"20 USD logo design", "logo design", payments.Money{Amount: 2000, Currency: payments.USD}},
		{"១០០០០ បាយ", "បាយ", payments.Money{Amount: 1000000, Currency: payments.USD}},
	}
	for _, tt := range tests {
		m, rest, err := parseAmountArgs(tt.args, payments.USD)
		if err != nil || m != tt.want || rest != tt.rest {
			t.Errorf("parseAmountArgs(%q) = %v, %q, %v; want %v, %q", tt.args, m, rest, err, tt.want, tt.rest)
		}
	}
	if _, _, err := parseAmountArgs("coffee 5", payments.USD); err == nil {
		t.Error(`parseAmountArgs("coffee 5"): no error`)
	}
}

// FuzzParseAmount: no input panics; every accepted amount is positive, at
// most MaxAmount, and reads back the same from its own formatting.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"5", "5.5", "$5", "5usd", "10000", "10,000៛", "១០០០០", "5 USD", "KHR 10000",
		"៛10,000", "", "1,0", "5.555", "$5 KHR", "0", "1000000000.00"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, khr bool) {
		def := payments.USD
		if khr {
			def = payments.KHR
		}
		m, err := ParseAmount(s, def)
		if err != nil {
			var ae *AmountError
			if !errors.As(err, &ae) {
				t.Fatalf("ParseAmount(%q): error %T is not an *AmountError", s, err)
			}
			_ = amountText(locales.New(locales.Khmer), err)
			return
		}
		if m.Amount <= 0 || m.Amount > payments.MaxAmount {
			t.Fatalf("ParseAmount(%q) = %v: out of range", s, m)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseAmount(%q) = %v: %v", s, m, err)
		}
		back, err := ParseAmount(m.String(), payments.USD)
		if err != nil || back != m {
			t.Fatalf("ParseAmount(%q) = %v, but its string %q reads back as %v, %v", s, m, m.String(), back, err)
		}
	})
}
