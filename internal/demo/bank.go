package demo

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// The ways the simulated bank app can pay a QR: what the payer panel offers.
const (
	payExact = "exact" // the QR's amount, now
	payWrong = "wrong" // another amount (see wrongAmount): the merchant reviews it
	payLate  = "late"  // the QR's amount, stamped a minute after it expired
	payFail  = "fail"  // the bank reports the transfer failed
)

// bill is what the bank app shows before paying: the QR, as the app reads it.
type bill struct {
	Merchant  string `json:"merchant"`
	Account   string `json:"account"`
	Amount    string `json:"amount"` // "5.00", "20000"
	Currency  string `json:"currency"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // Unix milliseconds
	Wrong     string `json:"wrong"`               // the amount payWrong pays
}

// billOf reads the KHQR that deeplink opens.
func (p *page) billOf(link string) (string, khqr.Info, error) {
	qr, ok := p.Bank.LinkQR(link)
	if !ok {
		return "", khqr.Info{}, errors.New("this link was not made by the Bakong simulator")
	}
	d, err := khqr.Decode(qr)
	if err != nil {
		return "", khqr.Info{}, fmt.Errorf("read the QR: %w", err)
	}
	info, err := d.Info()
	if err != nil {
		return "", khqr.Info{}, fmt.Errorf("read the QR: %w", err)
	}
	if info.Amount <= 0 {
		return "", khqr.Info{}, errors.New("the QR has no amount: the demo bank pays only QRs with one")
	}
	return qr, info, nil
}

// wrongAmount is what a payer who mistypes pays: 90% of amount, or one
// minor unit more when no smaller amount is left.
func wrongAmount(amount int64) int64 {
	if w := min(amount*9/10, amount-1); w > 0 {
		return w
	}
	return amount + 1
}

// amountText writes minor units of c with its decimals, as receipts do:
// "1.50", "10000".
func amountText(minor int64, c khqr.Currency) string {
	return payments.Money{Amount: minor, Currency: c}.Decimal()
}

func (p *page) bankApp(w http.ResponseWriter, r *http.Request) {
	_, info, err := p.billOf(r.URL.Query().Get("link"))
	if err != nil {
		writeProblem(w, http.StatusNotFound, err.Error())
		return
	}
	b := bill{
		Merchant: info.MerchantName, Account: info.AccountID, Currency: string(info.Currency),
		Amount: amountText(info.Amount, info.Currency), Wrong: amountText(wrongAmount(info.Amount), info.Currency),
	}
	if !info.ExpiresAt.IsZero() {
		b.ExpiresAt = info.ExpiresAt.UnixMilli()
	}
	writeJSON(w, http.StatusOK, b)
}

// payRequest asks the bank app to pay the QR behind a deeplink.
type payRequest struct {
	Link string `json:"link"`
	How  string `json:"how"` // payExact, payWrong, payLate or payFail
}

func (p *page) bankPay(w http.ResponseWriter, r *http.Request) {
	var in payRequest
	if !readJSON(w, r, &in) {
		return
	}
	qr, info, err := p.billOf(in.Link)
	if err != nil {
		writeProblem(w, http.StatusNotFound, err.Error())
		return
	}
	var pay sim.Payment
	switch in.How {
	case payExact:
	case payWrong:
		pay.Amount = wrongAmount(info.Amount)
	case payLate:
		pay.CreatedAt = info.ExpiresAt.Add(time.Minute)
		if info.ExpiresAt.IsZero() {
			writeProblem(w, http.StatusBadRequest, "the QR never expires, so it cannot be paid late")
			return
		}
	case payFail:
		md5, err := p.Bank.RegisterQR(qr)
		if err == nil {
			err = p.Bank.Fail(md5)
		}
		if err != nil {
			writeProblem(w, http.StatusConflict, bankRefusal(err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "failed"})
		return
	default:
		writeProblem(w, http.StatusBadRequest, fmt.Sprintf("how %q: want exact, wrong, late or fail", in.How))
		return
	}
	t, err := p.Bank.PayQR(qr, pay)
	if err != nil {
		writeProblem(w, http.StatusConflict, bankRefusal(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"status": "paid", "hash": t.Hash[:8],
		"amount": amountText(t.Amount, khqr.Currency(t.Currency)), "currency": t.Currency,
	})
}

// bankRefusal says why the bank app could not pay, as a payer understands it.
func bankRefusal(err error) string {
	if errors.Is(err, sim.ErrSettled) {
		return "This QR was already paid or its payment failed: a QR is paid once."
	}
	return "The bank could not pay: " + err.Error()
}
