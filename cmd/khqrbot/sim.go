package main

import (
	"context"
	"fmt"
)

func runSim(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot sim: not built yet")
	return 3
}
