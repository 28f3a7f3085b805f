package main

import (
	"context"
	"fmt"
)

func runCheck(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot check: not built yet")
	return 3
}
