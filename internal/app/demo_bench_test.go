package app

import (
	"context"
	"testing"
)

// BenchmarkStartDemo is what `remerge demo` waits for before its first
// frame: two registries started and the demo release seeded into them.
// Run: go test ./internal/app -run '^$' -bench StartDemo -benchtime 5x
func BenchmarkStartDemo(b *testing.B) {
	for b.Loop() {
		d, err := StartDemo(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
