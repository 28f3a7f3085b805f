//go:build !race

package card

// raceDetector is true under -race.
const raceDetector = false
