// Package khqr encodes, decodes and verifies Bakong KHQR payloads, byte for
// byte as the National Bank of Cambodia's bakong-khqr SDK (1.0.20) does.
// It uses the standard library only.
//
// Encode builds an individual (tag 29) or merchant (tag 30) KHQR from Info
// with an injected clock and returns it with its md5, the key Bakong's Open
// API knows a payment by. Amounts are integer minor units (riel, cents);
// FormatAmount and ParseAmount convert them to and from decimal text.
// Lengths are counted in UTF-16 units, as the SDK counts them. Every input
// the SDK refuses is refused with the SDK's error code and message (*Error);
// inputs for which the SDK writes a broken QR are refused too: a template
// longer than 99 characters, an alternate merchant name or city without a
// language preference. Encode is stricter than the SDK in two more places:
// a Bakong account must be name@bank (the SDK takes a@b@c) and a merchant
// category code 4 digits (the SDK writes 742 as 5203742).
//
// Decode reads any string into a Decoded, whose JSON form has the keys of
// the SDK's decode(). It does not check the CRC or the field rules, but it
// fails with the tag, the byte offset and what was expected on a malformed
// TLV, where the SDK loops forever or returns garbage keys. It never panics
// and never loops; it is fuzzed.
//
// Verify checks integrity (CRC) and rules at a given time. It rejects every
// QR the SDK's verify() rejects, with the code ts-khqr's verifyDetail()
// reports, and accepts every QR the SDK generates from input Encode accepts
// (the generate_ok vectors) until its expiration millisecond, inclusive.
// Like the SDK it accepts unknown tags, any tag order, a lower-case CRC, a
// static QR carrying an amount with its timestamps, and the tag 99 of
// bakong-khqr <= 1.0.17 on a static QR (creation time only).
//
// Where the SDK's verify() is lenient, Verify is stricter, because a payment
// tool must not act on a QR whose amount, receiver or lifetime is ambiguous.
// It rejects these QRs, each of which the SDK accepts (the ver-lenient-*
// vectors; TestVerifyVectors pins each one's code):
//
//   - ver-lenient-khr-decimals, code 4: tag 54 must be an amount of tag 53's
//     currency: digits, no leading zero, no decimals for KHR, at most 2 for
//     USD, not zero. Otherwise the sum owed is ambiguous: riel have no
//     minor unit, so KHR "100.50" cannot be paid as written. The SDK checks
//     only the length and the absence of "-", so it takes USD "abc" too.
//   - ver-lenient-country-us, code 0: tag 58 must be KH; a KHQR is a
//     Cambodian payment. The SDK checks only the length.
//   - ver-lenient-no-poi, code 48: tag 01 must be present; without it a
//     static QR and a dynamic one cannot be told apart, nor which rules of
//     expiry apply.
//   - ver-lenient-merchant-no-mid, code 30 (31 for the bank): tag 30 must
//     hold a merchant ID and an acquiring bank, as the SDK's own generator
//     requires; without them the receiver is not fully named.
//   - ver-lenient-static-expired-99, code 46: an expiration in tag 99 is
//     enforced on a static QR too, and checked for 13 digits (49) and
//     against the creation time (50) like a dynamic one's. The SDK checks
//     tag 99 only when tag 01 is 12, so it takes a QR that says it expired.
//
// For the same reasons, and pinned by TestVerifyRules and TestVerifyQuirks,
// Verify also requires what Encode writes: tag 00 equal to 01 (code 0); no
// tag twice, nor tags 29 and 30 together (code 0); the CRC as the last field
// (code 0); no tag 15 with USD (code 44); a Bakong account of the form
// name@bank (code 3, the SDK takes a@b@c); a 4-digit MCC (code 18, the SDK
// takes 742); a language preference in tag 64 (code 0); an amount whose
// SDK form fits tag 54's 13 characters (code 4: USD "12345678901.2" fits,
// but the SDK writes that sum as "12345678901.20").
//
// Every error is an *Error: Code is the SDK's where one applies (Code*
// constants), 0 for a rule of ours, and Message is then ours.
package khqr
