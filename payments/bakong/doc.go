// Package bakong is a client for the NBC Bakong Open API
// (https://api-bakong.nbc.gov.kh): transaction checks by md5, hash, short
// hash, instruction and external reference and their list forms, account
// checks, deeplinks, and the token endpoints, plus a TokenManager that keeps
// the JWT renewed.
//
// It is written for reconciliation loops that must never mistake an outage
// for "not paid yet". Exactly two answers are outcomes rather than failures:
// ErrNotFound (errorCode 1 at HTTP 200, "not paid yet") and ErrFailed
// (errorCode 3). Everything else is an *Error whose Kind says what to do:
// renew the token, use a proxy in Cambodia, slow down, retry later, fall back
// from a list endpoint to single checks, or report an API error code.
//
// Amounts are decoded exactly into integer minor units (cents, riel) whether
// the API sends them as numbers or strings; floats are never involved.
// Each answer is decoded in one pass, its data in the shape the endpoint
// normally answers with; one that does not fit goes to lenient decoders
// that read item by item.
// Error texts and Observer records never contain the token.
//
// The package uses only the standard library and payments/khqr (its hex
// and digit checks).
package bakong
