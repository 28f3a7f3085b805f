// Package sim simulates the NBC Bakong Open API, as NBC's Open API
// documentation describes it: the server behind sandbox mode and every test.
// It follows the wire contract, not our client, so that the client's tolerance
// is tested rather than assumed.
//
// # Open API
//
// Every path of the contract is served under /v1/, POST and JSON only:
// request_token, verify, renew_token, generate_deeplink_by_qr,
// check_transaction_by_{md5,hash,short_hash,instruction_ref,external_ref,
// md5_list,hash_list}, check_bakong_account and its alias check_account_exist.
// Answers are the four-key envelope {responseCode, responseMessage, errorCode,
// data}, errorCode null on success. Choices where the contract is unknown:
//
//   - Business outcomes are HTTP 200: not found (1), failed (3), missing or
//     invalid fields (5), not registered (10), account not found (11) or
//     invalid (12), and lists that are empty or longer than 50 (5).
//   - A body that is not JSON of the expected type (including a list wrapped
//     in an object) is HTTP 400 with errorCode 5; a Content-Type other than
//     application/json is HTTP 415 with errorCode 5.
//   - check_transaction_* need "Authorization: Bearer <token>": missing,
//     unknown, expired or revoked tokens get HTTP 401 with errorCode 6 and the
//     live message. Other endpoints accept and ignore tokens. A bad verify code
//     gets the same 401.
//   - Tokens are HS256 JWTs {"data":{"id"},"iat","exp"}, valid when signed with
//     the Secret, unexpired by the Clock and not revoked; id is per token.
//   - Wrong paths get nginx's HTML 404, wrong methods HTML 405.
//   - md5 lookups are exact: an upper-case md5 is not found. Static QRs are
//     never found by md5 (STATIC_QR in lists); their payments are found by
//     hash and references. A dynamic QR is paid or failed once.
//   - Amounts are JSON numbers in major units (5, 5.5, 0.01, 9800); the
//     short-hash check takes a number (or a numeric string) and matches it
//     exactly in minor units. Transactions carry every field of section 2.13,
//     null when empty; fromAccountId defaults to a bank's pooled account.
//   - List items are {md5|hash, status, message, data}, in request order.
//   - Deeplinks need a QR with a valid CRC and, when sourceInfo is sent, its
//     three fields; static QRs get links too. Links are fresh on every call.
//
// Faults (see Fault) add what the gateway and the network do: nginx 403 pages,
// 429 with Retry-After, 5xx HTML pages, latency, refused lists, odd number
// forms, SERVICE_FAILED items and expired tokens.
//
// # Control API
//
// Under /_sim/, JSON in and out, no token; errors are {"error": "..."} with
// 400 (bad input), 404 (unknown md5 or email), 405 or 409 (already settled):
//
//	POST   /_sim/register {"qr"}                     -> {"md5","static","amount","currency","toAccount","expiresAtMs"}
//	POST   /_sim/pay      {"md5"|"qr", "amount":"10.50", "currency", "toAccount",
//	                       "fromAccount", "createdAtMs", "description", "instructionRef"}
//	                                                 -> the transaction as check_* return it
//	POST   /_sim/fail     {"md5"}                    -> {"md5","status":"FAILED"}
//	GET    /_sim/calls                               -> [RecordedCall...] (API calls only)
//	DELETE /_sim/calls                               -> 204
//	POST   /_sim/faults   {"endpoint", "status", "geoBlock", "retryAfterMs", "latencyMs",
//	                       "ratio", "count", "listRefused", "errorCode", "serviceFailed",
//	                       "amountAsString", "floatTimestamps", "itemInline",
//	                       "itemUnderTransaction", "expireTokens"} -> 204
//	DELETE /_sim/faults                              -> 204
//	POST   /_sim/token    {"email"}                  -> {"token"}
//	GET    /_sim/codes?email=E                       -> {"email","code"} (what request_token "emailed")
//
// Pay fields left out take the QR's values; an amount is read in the
// payment's currency, else the QR's. The same actions are Go methods of Server.
package sim
