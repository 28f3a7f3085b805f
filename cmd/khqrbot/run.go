package main

import (
	"context"
	"fmt"
)

func runBot(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot run: not built yet")
	return 3
}
