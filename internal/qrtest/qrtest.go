// Package qrtest reads QR codes in tests with gozxing, a decoder independent
// of the skip2/go-qrcode encoder we ship, so a test that scans our cards
// proves what a payer's banking app would see rather than what we meant to draw.
package qrtest

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png" // Read decodes PNG photos and cards.

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Read returns the text of the QR code in an encoded image (PNG), or why there is none.
func Read(png []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return "", fmt.Errorf("decode image: %w", err)
	}
	return Scan(img)
}

// Scan returns the text of the QR code in img, or why there is none.
func Scan(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("bitmap: %w", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	})
	if err != nil {
		return "", fmt.Errorf("scan QR: %w", err)
	}
	return res.GetText(), nil
}
