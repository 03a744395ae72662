package main

import "github.com/spf13/cobra"

// newDemoCmd is what `remerge demo` became: a one-line pointer at the
// remerge-demo binary. The demo runs registry servers, which this binary
// must not link (depcheck_test.go); DESIGN.md and older READMEs still say
// `remerge demo`, so the name answers with where the demo went rather than
// with "unknown command".
func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "demo",
		Short:  "The demo is the remerge-demo binary (make run)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return usagef("demo: the demo is its own binary: run `make run`, or `go run ./cmd/remerge-demo`")
		},
		DisableFlagParsing: true,
	}
}
