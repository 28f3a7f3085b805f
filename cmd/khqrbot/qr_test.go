package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/qrtest"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// qrVector is the part of a payments/khqr test vector the CLI tests use.
type qrVector struct {
	ID     string          `json:"id"`
	Kind   string          `json:"kind"`
	Type   string          `json:"type"`
	NowMS  int64           `json:"now_ms"`
	Input  json.RawMessage `json:"input"`
	QR     string          `json:"qr"`
	MD5    string          `json:"md5"`
	Verify bool            `json:"verify"`
	Detail struct {
		ErrorCode int `json:"errorCode"`
	} `json:"ts_khqr_verifyDetail"`
	Decode map[string]any `json:"decode"`
}

func loadQRVectors(t *testing.T, kind string) []qrVector {
	t.Helper()
	b, err := os.ReadFile("../../payments/khqr/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []qrVector
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var out []qrVector
	for _, v := range all {
		if v.Kind == kind {
			out = append(out, v)
		}
	}
	return out
}

// qrEncodeArgs turns an SDK input into "qr encode" arguments the way a user
// would type them: numbers as written (the number 5 is --amount 5, the
// string "5.00" is --amount 5.00), currency codes as KHR/USD, null and ""
// left out, and --created-at pinned to the vector's clock.
func qrEncodeArgs(t *testing.T, v qrVector) []string {
	t.Helper()
	var in struct {
		BakongAccountID string         `json:"bakongAccountID"`
		MerchantName    string         `json:"merchantName"`
		MerchantCity    *string        `json:"merchantCity"`
		MerchantID      *string        `json:"merchantID"`
		AcquiringBank   *string        `json:"acquiringBank"`
		Optional        map[string]any `json:"optional"`
	}
	dec := json.NewDecoder(bytes.NewReader(v.Input))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		t.Fatal(err)
	}
	args := []string{"encode", "--account", in.BakongAccountID, "--name", in.MerchantName,
		"--created-at", qrItoa(v.NowMS)}
	add := func(flag string, p *string) {
		if p != nil && *p != "" {
			args = append(args, flag, *p)
		}
	}
	add("--city", in.MerchantCity)
	add("--merchant-id", in.MerchantID)
	add("--bank", in.AcquiringBank)
	flags := map[string]string{
		"accountInformation": "--account-info", "acquiringBank": "--bank", "billNumber": "--bill",
		"mobileNumber": "--mobile", "storeLabel": "--store", "terminalLabel": "--terminal",
		"purposeOfTransaction": "--purpose", "languagePreference": "--lang",
		"merchantNameAlternateLanguage": "--alt-name", "merchantCityAlternateLanguage": "--alt-city",
		"merchantCategoryCode": "--mcc", "upiMerchantAccount": "--upi", "amount": "--amount",
		"expirationTimestamp": "--expires-at",
	}
	for k, val := range in.Optional {
		var s string
		switch x := val.(type) {
		case nil:
			continue
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			t.Fatalf("%s: %T", k, val)
		}
		if k == "currency" {
			switch s {
			case "116":
				args = append(args, "--currency", "KHR")
			case "840":
				args = append(args, "--currency", "USD")
			default:
				t.Fatalf("currency %s", s)
			}
			continue
		}
		f, ok := flags[k]
		if !ok {
			t.Fatalf("no flag for %s", k)
		}
		if s != "" {
			args = append(args, f, s)
		}
	}
	return args
}

func qrItoa(n int64) string { return strconv.FormatInt(n, 10) }

// runQRArgs runs "khqrbot qr ARGS" in-process.
func runQRArgs(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
	code := runQR(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// TestQREncodeVectors: "qr encode" reproduces every generate_ok vector.
func TestQREncodeVectors(t *testing.T) {
	for _, v := range loadQRVectors(t, "generate_ok") {
		t.Run(v.ID, func(t *testing.T) {
			args := qrEncodeArgs(t, v)
			code, out, errOut := runQRArgs("", args...)
			if code != 0 || out != v.QR+"\n" {
				t.Fatalf("%v: exit %d\n got %q\nwant %q\n%s", args, code, out, v.QR, errOut)
			}
			code, out, _ = runQRArgs("", append(args, "--json")...)
			var got struct{ QR, MD5 string }
			if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got.QR != v.QR || got.MD5 != v.MD5 {
				t.Errorf("--json: exit %d, %q, %v", code, out, err)
			}
		})
	}
}

// TestQRVerifyVectors: "qr verify --at" agrees with Verify on every vector.
func TestQRVerifyVectors(t *testing.T) {
	for _, v := range loadQRVectors(t, "verify") {
		t.Run(v.ID, func(t *testing.T) {
			code, out, errOut := runQRArgs("", "verify", v.QR, "--at", qrItoa(v.NowMS))
			err := khqr.Verify(v.QR, time.UnixMilli(v.NowMS))
			switch {
			case err == nil && (code != 0 || out != "valid\n"):
				t.Errorf("exit %d %q %q, want valid", code, out, errOut)
			case err != nil && (code != 1 || !strings.HasPrefix(out, "invalid: ") || !strings.Contains(out, strings.TrimPrefix(err.Error(), "khqr: "))):
				t.Errorf("exit %d %q, want 1 and %v", code, out, err)
			}
			if !v.Verify && !strings.Contains(out, "(code "+qrItoa(int64(v.Detail.ErrorCode))+")") {
				t.Errorf("SDK code %d not in %q", v.Detail.ErrorCode, out)
			}
		})
	}
}

// TestQRDecodeVectors: "qr decode" prints the SDK's decode() object.
func TestQRDecodeVectors(t *testing.T) {
	for _, v := range loadQRVectors(t, "generate_ok") {
		code, out, errOut := runQRArgs("", "decode", v.QR)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", v.ID, code, errOut)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v\n%s", v.ID, err, out)
		}
		v.Decode["pointOfInitiationMethod"] = v.Decode["pointofInitiationMethod"]
		delete(v.Decode, "pointofInitiationMethod")
		if len(got) != 25 || len(v.Decode) != 25 {
			t.Fatalf("%s: %d keys", v.ID, len(got))
		}
		for k, want := range v.Decode {
			if got[k] != want {
				t.Errorf("%s: %s = %v, want %v", v.ID, k, got[k], want)
			}
		}
	}
}

func TestQRUsage(t *testing.T) {
	valid := "00020101021129180014jonhsmith@nbcq5204599953031165802KH5910Jonh Smith6010Phnom Penh6304856B"
	dir := t.TempDir()
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no subcommand", "", nil, 2, "", "Usage: khqrbot qr"},
		{"help", "", []string{"-h"}, 0, "", "Subcommands:"},
		{"unknown", "", []string{"frob"}, 2, "", `unknown subcommand "frob"`},
		{"encode -h", "", []string{"encode", "-h"}, 0, "", "-ttl"},
		{"encode bad flag", "", []string{"encode", "--nope"}, 2, "", "flag provided but not defined"},
		{"encode no account", "", []string{"encode", "--name", "N"}, 2, "", "--account is required"},
		{"encode no name", "", []string{"encode", "--account", "a@b"}, 2, "", "--name is required"},
		{"encode bad amount", "", []string{"encode", "--account", "a@b", "--name", "N", "--amount", "1.005", "--currency", "USD"}, 2, "", "at most 2 decimals"},
		{"encode KHR decimals", "", []string{"encode", "--account", "a@b", "--name", "N", "--amount", "10.5"}, 2, "", "KHR takes no decimals"},
		{"encode bad currency", "", []string{"encode", "--account", "a@b", "--name", "N", "--currency", "EUR"}, 2, "", "want KHR or USD"},
		{"encode both expiries", "", []string{"encode", "--account", "a@b", "--name", "N", "--expires-at", "1767226200000", "--ttl", "5m"}, 2, "", "not both"},
		{"encode bad ttl", "", []string{"encode", "--account", "a@b", "--name", "N", "--ttl", "soon"}, 2, "", "invalid value"},
		{"encode extra argument", "", []string{"encode", "--account", "a@b", "--name", "N", "x"}, 2, "", "unexpected argument"},
		{"encode rejected", "", []string{"encode", "--account", "a@b", "--name", strings.Repeat("N", 26)}, 1, "", "(code 7)"},
		{"encode expiry in the past", "", []string{"encode", "--account", "a@b", "--name", "N", "--amount", "5", "--created-at", "1767225600000", "--expires-at", "1767225599999"}, 1, "", "(code 50)"},
		{"encode default ttl", "", []string{"encode", "--account", "a@b", "--name", "N", "--amount", "5", "--created-at", "1767225600000"}, 0, "0113" + "1767226200000", ""},
		{"encode ttl", "", []string{"encode", "--account", "a@b", "--name", "N", "--amount", "5", "--created-at", "1767225600000", "--ttl", "1m"}, 0, "0113" + "1767225660000", ""},
		{"encode fixed decimals", "", []string{"encode", "--account", "a@b", "--name", "N", "--currency", "usd", "--amount", "5.00", "--created-at", "1767225600000"}, 0, "54045.00", ""},
		{"encode zero is static", "", []string{"encode", "--account", "a@b", "--name", "N", "--amount", "0"}, 0, "010211", ""},
		{"decode -h", "", []string{"decode", "-h"}, 0, "", "pointOfInitiationMethod"},
		{"decode no argument", "", []string{"decode"}, 2, "", "want one KHQR string, or - to read it from stdin; got 0 arguments"},
		{"decode two arguments", "", []string{"decode", "a", "b"}, 2, "", "want one KHQR string, or - to read it from stdin; got 2 arguments"},
		{"decode empty stdin", "", []string{"decode", "-"}, 2, "", "no QR on stdin"},
		{"decode after --", valid + "\n", []string{"decode", "--", "-"}, 0, `"crc": "856B"`, ""},
		{"decode broken", "", []string{"decode", "0002010x"}, 1, "", "offset 6"},
		{"decode stdin", valid + "\n", []string{"decode", "-"}, 0, `"crc": "856B"`, ""},
		{"verify valid", "", []string{"verify", valid}, 0, "valid\n", ""},
		{"verify flag first", "", []string{"verify", "--at", "1767225600000", valid}, 0, "valid\n", ""},
		{"verify bad CRC", "", []string{"verify", valid[:len(valid)-1] + "0"}, 1, "(code 8)", ""},
		{"verify bad at", "", []string{"verify", valid, "--at", "soon"}, 2, "", "invalid value"},
		{"verify -h", "", []string{"verify", "-h"}, 0, "", "-at"},
		{"image static", "", []string{"image", valid, "-o", filepath.Join(dir, "x.png")}, 1, "", "static KHQR"},
		{"image bad state", "", []string{"image", valid, "--state", "lost"}, 2, "", "--state"},
		{"image paid without hash", "", []string{"image", valid, "--state", "paid"}, 2, "", "--short-hash"},
		{"image broken", "", []string{"image", "0002010x"}, 1, "", "offset 6"},
		{"image -h", "", []string{"image", "-h"}, 0, "", "-state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runQRArgs(tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout %q, stderr %q", code, tt.code, out, errOut, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestQRImage: the card of a dynamic KHQR, to a file and to stdout.
func TestQRImage(t *testing.T) {
	_, qr, _ := runQRArgs("", "encode", "--account", "jonhsmith@nbcq", "--name", "Jonh Smith", "--currency", "USD", "--amount", "1234.5", "--ttl", "5m")
	qr = strings.TrimSpace(qr)
	file := filepath.Join(t.TempDir(), "card.png")
	png := []byte("\x89PNG\r\n\x1a\n")
	for _, args := range [][]string{
		{"image", qr, "-o", file},
		{"image", qr, "--state", "expired", "-o", file},
		{"image", qr, "--state", "paid", "--short-hash", "a1b2c3d4", "--paid-at", "1767225660000", "-o", file},
	} {
		code, _, errOut := runQRArgs("", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		b, err := os.ReadFile(file)
		if err != nil || !bytes.HasPrefix(b, png) {
			t.Fatalf("%v: not a PNG (%v)", args, err)
		}
	}
	code, out, errOut := runQRArgs("", "image", qr, "--sandbox")
	if code != 0 || !strings.HasPrefix(out, string(png)) {
		t.Fatalf("stdout: exit %d %s", code, errOut)
	}
	if code, _, errOut := runQRArgs("", "image", qr, "--lang", "fr"); code != 2 || !strings.Contains(errOut, "--lang") {
		t.Errorf("--lang fr: exit %d %s", code, errOut)
	}
}

// TestQRImageKhmer: --lang km draws the Khmer card with the QR's Khmer name
// (tag 64), --name replaces it, and the QR still reads.
func TestQRImageKhmer(t *testing.T) {
	_, qr, _ := runQRArgs("", "encode", "--account", "sokha@aclb", "--name", "Sokha Coffee", "--currency", "KHR",
		"--amount", "20000", "--ttl", "5m", "--bill", "INV-000043", "--lang", "km", "--alt-name", "ហាងកាហ្វេសុខា")
	qr = strings.TrimSpace(qr)
	image := func(args ...string) string {
		t.Helper()
		code, out, errOut := runQRArgs("", append([]string{"image", qr}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		return out
	}
	km := image("--lang", "km")
	if got, err := qrtest.Read([]byte(km)); err != nil || got != qr {
		t.Fatalf("Khmer card reads %q, %v", got, err)
	}
	if named := image("--lang", "km", "--name", "ហាងកាហ្វេសុខា"); named != km {
		t.Error("--lang km does not show the QR's Khmer name")
	}
	if other := image("--lang", "km", "--name", "Other Shop"); other == km {
		t.Error("--name is ignored")
	}
	if en := image("--lang", "en", "--name", "ហាងកាហ្វេសុខា"); en == km {
		t.Error("--lang is ignored")
	}
}

// TestQRBinary builds khqrbot and drives it as a user would, on a sample of
// the vectors: encode (clock pinned with --created-at), decode, verify.
func TestQRBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := khqrbotBinary(t)
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	for i, v := range loadQRVectors(t, "generate_ok") {
		if i%4 != 0 && !strings.Contains(v.ID, "5.00") && !strings.Contains(v.ID, "number-5") {
			continue
		}
		code, out, errOut := run(append([]string{"qr"}, qrEncodeArgs(t, v)...)...)
		if code != 0 || out != v.QR+"\n" {
			t.Errorf("encode %s: exit %d\n got %q\nwant %q\n%s", v.ID, code, out, v.QR, errOut)
		}
		code, out, _ = run("qr", "decode", v.QR)
		var d map[string]any
		if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil || d["crc"] != v.QR[len(v.QR)-4:] || d["merchantName"] != v.Decode["merchantName"] {
			t.Errorf("decode %s: exit %d %v\n%s", v.ID, code, err, out)
		}
		if code, out, _ := run("qr", "verify", v.QR, "--at", qrItoa(v.NowMS)); code != 0 || out != "valid\n" {
			t.Errorf("verify %s: exit %d %q", v.ID, code, out)
		}
	}
	for _, v := range loadQRVectors(t, "verify") {
		if v.Verify {
			continue
		}
		code, out, _ := run("qr", "verify", v.QR, "--at", qrItoa(v.NowMS))
		if code != 1 || !strings.Contains(out, "(code "+qrItoa(int64(v.Detail.ErrorCode))+")") {
			t.Errorf("verify %s: exit %d %q, want code %d", v.ID, code, out, v.Detail.ErrorCode)
		}
	}
	if code, _, errOut := run("qr", "encode", "-h"); code != 0 || !strings.Contains(errOut, "-created-at") {
		t.Errorf("encode -h: exit %d", code)
	}
	if code, _, _ := run("qr", "encode", "--bogus"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if code, _, errOut := run("qr", "decode", "0002010x"); code != 1 || !strings.Contains(errOut, "offset 6") {
		t.Errorf("decode broken: exit %d %s", code, errOut)
	}
}
