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
// reports, and accepts every QR the SDK generates until its expiration
// millisecond, inclusive. Like the SDK it accepts unknown tags, any tag
// order, a lower-case CRC and the tag 99 of bakong-khqr <= 1.0.17 on a
// static QR (creation time only). Where the SDK is lenient, Verify is
// stricter, because a payment tool must not act on a QR whose amount,
// receiver or lifetime is ambiguous:
//
//   - tag 54 must be an amount of tag 53's currency: digits, no leading
//     zero, no decimals for KHR, at most 2 for USD, not zero (code 4). The
//     SDK accepts KHR "100.50" and USD "abc" (ver-lenient-khr-decimals).
//   - tag 58 must be KH (code 0). The SDK checks only its length
//     (ver-lenient-country-us).
//   - tag 01 must be present (code 48): without it static and dynamic
//     cannot be told apart (ver-lenient-no-poi).
//   - tag 30 must hold a merchant ID and an acquiring bank (codes 30, 31),
//     as the SDK's generator requires (ver-lenient-merchant-no-mid).
//   - an expiration in tag 99 is enforced on a static QR too (code 46), and
//     checked for 13 digits and against the creation time like a dynamic
//     one's (ver-lenient-static-expired-99).
//   - tag 00 must be 01 (code 0); no tag may appear twice, nor tags 29 and
//     30 together, and the CRC must be the last field (code 0); tag 15 is
//     refused with USD (code 44); the account, MCC and tag 64 rules of
//     Encode apply (codes 3, 18, 0).
//
// Every error is an *Error: Code is the SDK's where one applies (Code*
// constants), 0 for a rule of ours, and Message is then ours.
package khqr
