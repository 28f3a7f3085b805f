package main

import (
	"context"
	"fmt"
)

func runAccount(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot account: not built yet")
	return 3
}
