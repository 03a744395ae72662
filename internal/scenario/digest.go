package scenario

import godigest "github.com/opencontainers/go-digest"

func digestOf(b []byte) string { return godigest.FromBytes(b).String() }
