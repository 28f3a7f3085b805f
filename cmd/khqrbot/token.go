package main

import (
	"context"
	"fmt"
)

func runToken(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot token: not built yet")
	return 3
}
