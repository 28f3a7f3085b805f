package qrtest

import (
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

func TestRead(t *testing.T) {
	want := "00020101021129180014sokha@aclb5303116"
	png, err := qrcode.Encode(want, qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
		ok   bool
	}{
		{"qr", png, want, true},
		{"not an image", []byte("not a PNG"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("Read = %q, %v; want %q, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}
