package main

import (
	"context"
	"fmt"
)

func runQR(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot qr: not built yet")
	return 3
}
