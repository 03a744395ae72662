package demo

import (
	"context"
	"testing"
)

// BenchmarkStart is what `remerge-demo` waits for before its first
// frame: two registries started and the demo release seeded into them.
// Run: go test ./internal/demo -run '^$' -bench Start -benchtime 5x
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		d, err := Start(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
