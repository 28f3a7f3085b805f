package main

import (
	"context"
	"fmt"
)

func runDeeplink(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stderr, "khqrbot deeplink: not built yet")
	return 3
}
