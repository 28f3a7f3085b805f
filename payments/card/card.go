// Package card draws the PNG images the bot sends for a payment: the pending
// KHQR card (red header band, merchant name, amount and currency, the QR with
// its quiet zone, expiry line) and the cards that replace it once the QR is
// settled or dead (paid receipt, expired, failed, cancelled); and the
// merchant's sales chart (Chart, RenderChart), drawn with the same canvas
// and shaped text.
//
// Only the pending card carries a QR. Every other state draws none, so a chat
// message that was edited to a later state can never be paid twice. All
// cards are 720 px wide and, for one payment, the same height, so an edited
// message keeps its size. The QR is drawn at whole pixels per module, at
// least 512 px across, black on white: it survives Telegram's JPEG
// recompression. The sandbox mark is a band at the foot of the card, clear of
// the QR.
//
// Text is shaped with payments/card/text: Khmer (Noto Sans Khmer) and Latin
// (the Go fonts) in any mix, subscripts and vowels placed as a Khmer reader
// expects. The merchant name wraps to two lines and is shortened with "…"
// beyond; runes no font has (emoji, other scripts, control characters) are
// left out rather than drawn as boxes.
//
// The card's own words are in the viewer's language (Card.Lang): the keys
// "card.*" of locales/en.json and km.json. There, "card.khr" and "card.usd"
// name the currencies after the amount ("៛" in Khmer), "card.months" the
// twelve months, and "card.digits" the digits zero to nine that amounts,
// dates and times are written with: set it to "០១២៣៤៥៦៧៨៩" for Khmer digits.
package card

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khqrbot/khqrbot/locales"
)

// State is the lifecycle state a card shows.
type State string

// The states of one QR message, each with its own card.
const (
	StatePending   State = "pending"
	StatePaid      State = "paid"
	StateExpired   State = "expired"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Validate reports whether s is one of the five states.
func (s State) Validate() error {
	switch s {
	case StatePending, StatePaid, StateExpired, StateFailed, StateCancelled:
		return nil
	}
	return &Error{Field: "State", Message: fmt.Sprintf("%q: want pending, paid, expired, failed or cancelled", string(s))}
}

// MaxQR is the longest QR payload, in bytes, that a card accepts: far above any
// KHQR, and small enough for modules of at least 4 px on the card.
const MaxQR = 1024

// maxAmount bounds the formatted amount; tag 54 holds at most 13 characters,
// so 32 leaves room for thousands separators.
const maxAmount = 32

// maxShortHash is the length of a full transaction hash; the short hash is a
// prefix of it.
const maxShortHash = 64

// Card is what one image shows. Which fields matter depends on State.
type Card struct {
	State         State
	MerchantName  string         // any mix of Khmer and Latin; wrapped to two lines
	Amount        string         // formatted number: "5.00", "10,000"
	Currency      string         // "USD" or "KHR"
	QR            string         // KHQR payload; required for, and drawn only on, pending cards
	InvoiceNumber string         // "INV-000042"; optional
	ExpiresAt     time.Time      // pending: the "Expires 14:32" line; expired: when; optional
	PaidAt        time.Time      // required when paid
	ShortHash     string         // required when paid: the first hex digits of the transaction hash
	Sandbox       bool           // marks the card "SANDBOX · NO REAL MONEY"
	Location      *time.Location // zone of the times shown; nil means payments.Cambodia()
	Lang          string         // language of the card's words: "en" or "km"; "" means English
}

// Validate reports the first field that keeps c from being drawn.
func (c Card) Validate() error {
	if err := c.State.Validate(); err != nil {
		return err
	}
	if err := validateAmount(c.Amount); err != nil {
		return err
	}
	if err := validateLang(c.Lang); err != nil {
		return err
	}
	if c.Currency != "USD" && c.Currency != "KHR" {
		return &Error{Field: "Currency", Message: fmt.Sprintf("%q: want USD or KHR", c.Currency)}
	}
	switch c.State {
	case StatePending:
		switch {
		case c.QR == "":
			return &Error{Field: "QR", Message: "a pending card needs the KHQR payload"}
		case len(c.QR) > MaxQR:
			return &Error{Field: "QR", Message: fmt.Sprintf("%d bytes: want at most %d", len(c.QR), MaxQR)}
		case !utf8.ValidString(c.QR):
			return &Error{Field: "QR", Message: "want valid UTF-8"}
		}
	case StatePaid:
		if c.PaidAt.IsZero() {
			return &Error{Field: "PaidAt", Message: "a paid card needs the payment time"}
		}
		if err := validateShortHash(c.ShortHash); err != nil {
			return err
		}
	}
	return nil
}

// validateLang reports a language the card's words are not in; "" is
// English.
func validateLang(lang string) error {
	if lang != "" && !locales.Supported(lang) {
		return &Error{Field: "Lang", Message: fmt.Sprintf("%q: want %s", lang, strings.Join(locales.Languages, " or "))}
	}
	return nil
}

func validateAmount(s string) error {
	if s == "" {
		return &Error{Field: "Amount", Message: `empty: want a formatted number such as "5.00" or "10,000"`}
	}
	if len(s) > maxAmount {
		return &Error{Field: "Amount", Message: fmt.Sprintf("%d characters: want at most %d", len(s), maxAmount)}
	}
	if strings.Trim(s, "0123456789,.") != "" || strings.Trim(s, ",.") != s || !strings.ContainsAny(s, "0123456789") {
		return &Error{Field: "Amount", Message: fmt.Sprintf(`%q: want digits with "," or "." separators, such as "5.00" or "10,000"`, s)}
	}
	return nil
}

func validateShortHash(s string) error {
	if s == "" || len(s) > maxShortHash || strings.Trim(s, "0123456789abcdefABCDEF") != "" {
		return &Error{Field: "ShortHash", Message: fmt.Sprintf("%q: want 1 to %d hex digits of the transaction hash", s, maxShortHash)}
	}
	return nil
}

// Error says which Card field cannot be drawn and what was expected.
// Field names the Card field and serves as the error's code.
type Error struct {
	Field   string
	Message string
}

// Error formats the problem as "card: Field: message".
func (e *Error) Error() string { return "card: " + e.Field + ": " + e.Message }
