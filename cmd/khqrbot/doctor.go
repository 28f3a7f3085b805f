package main

import (
	"context"
	"fmt"
)

func runDoctor(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot doctor: not built yet")
	return 3
}
