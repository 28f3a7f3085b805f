package card

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"sync"
)

// encoderPool lets renders reuse the PNG encoder's deflate state, which is
// larger than the image it compresses.
type encoderPool struct{ p sync.Pool }

// Get returns a pooled buffer, or nil so that the encoder makes one.
func (e *encoderPool) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}

// Put returns b to the pool.
func (e *encoderPool) Put(b *png.EncoderBuffer) { e.p.Put(b) }

// encoder favours speed: cards are flat colour and compress well anyway.
var encoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &encoderPool{}}

// encode writes img as PNG.
func encode(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := encoder.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("card: encode PNG: %w", err)
	}
	return b.Bytes(), nil
}
