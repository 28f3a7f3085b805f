//go:build race

package card

// raceDetector is true under -race, which slows rendering and scanning
// tenfold without adding to what single-goroutine tests prove.
const raceDetector = true
