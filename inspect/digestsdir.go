package inspect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Bounds on a digests folder. A real one holds one folder per leg (a few
// hundred) with one file each; the caps keep a wrong --digests argument
// (say, a home directory) from costing unbounded memory or time.
const (
	maxDigestsDirEntries   = 100_000 // top-level entries read
	maxDigestsArtifactList = 64      // entries read inside one artifact folder
)

// DigestsDir is the content of a `gh run download <run> -p 'digests*'`
// folder: the digest each leg's build pushed, as CI recorded it. It is the
// first source of expected digests (DESIGN.md section 4).
type DigestsDir struct {
	// Digests maps suffix -> platform-tag -> "sha256:<hex>".
	Digests map[string]map[string]string
	// Problems name every path that was not understood, so junk in the
	// folder is visible rather than silently ignored.
	Problems []string
	// Flat are digest files whose name says no platform: the one folder
	// download-artifact's merge-multiple writes for docker's multi-runner
	// recipe (or one digests-<os>-<arch> folder per artifact). Their
	// platforms are read from the registry (ResolveFlatDigests).
	Flat []FlatDigest
	// unread: suffix -> why the platform of some flat digest could not be
	// read (a registry did not answer): its leg's digest is not known.
	unread map[string]string
}

// ReadDigestsDir reads a digests folder: one folder per artifact named
// digests<suffix>--<platform-tag>, holding one empty file named by the
// 64-hex digest. Only names are read, never file contents. A missing or
// non-folder dir is an error; anything odd inside it is a Problem.
func ReadDigestsDir(dir string) (*DigestsDir, error) {
	return readDigestsDir(dir, false)
}

// ReadRecipeDigestsDir reads the digests folder of docker's multi-runner
// recipe: digest files at the top (download-artifact's merge-multiple) or
// in digests-<os>-<arch> folders become Flat, whose platforms
// ResolveFlatDigests reads from the registry.
func ReadRecipeDigestsDir(dir string) (*DigestsDir, error) {
	return readDigestsDir(dir, true)
}

func readDigestsDir(dir string, recipe bool) (*DigestsDir, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("digests %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("digests %s: not a directory", dir)
	}
	entries, truncated, err := digestsReadDir(dir, maxDigestsDirEntries)
	if err != nil {
		return nil, fmt.Errorf("digests %s: %w", dir, err)
	}
	d := &DigestsDir{Digests: map[string]map[string]string{}}
	if truncated {
		d.problem(dir, "more than %d entries; the rest were not read", maxDigestsDirEntries)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		suffix, ptag, ok := digestsArtifactName(e.Name())
		switch {
		case !ok && recipe && d.flat(p, e):
			continue
		case !ok:
			d.problem(p, "not a digests<suffix>--<amd64|arm64|single> artifact folder; ignored")
			continue
		case !e.IsDir():
			d.problem(p, "not a folder; ignored")
			continue
		}
		if digest, ok := d.readArtifact(p); ok {
			if d.Digests[suffix] == nil {
				d.Digests[suffix] = map[string]string{}
			}
			d.Digests[suffix][ptag] = digest
		}
	}
	return d, nil
}

// Digest returns the digest recorded for one leg.
func (d *DigestsDir) Digest(suffix, platformTag string) (string, bool) {
	if d == nil {
		return "", false
	}
	dg, ok := d.Digests[suffix][platformTag]
	return dg, ok
}

func (d *DigestsDir) problem(path, format string, args ...any) {
	d.Problems = append(d.Problems, path+": "+fmt.Sprintf(format, args...))
}

// readArtifact returns the digest named by the one file in an artifact
// folder. Zero or several digest files give no digest and a problem: with
// two candidates there is no way to know which one the build pushed.
func (d *DigestsDir) readArtifact(dir string) (string, bool) {
	entries, truncated, err := digestsReadDir(dir, maxDigestsArtifactList)
	if err != nil {
		d.problem(dir, "%v", err)
		return "", false
	}
	var found []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !digestsIsHex64(e.Name()) {
			d.problem(p, "not named by a 64-hex digest; ignored")
			continue
		}
		if !e.Type().IsRegular() {
			d.problem(p, "not a regular file; ignored")
			continue
		}
		found = append(found, e.Name())
	}
	switch {
	case truncated:
		d.problem(dir, "more than %d entries; no digest taken", maxDigestsArtifactList)
		return "", false
	case len(found) == 0:
		d.problem(dir, "no digest file")
		return "", false
	case len(found) > 1:
		d.problem(dir, "conflicting digest files %s; no digest taken", strings.Join(found, ", "))
		return "", false
	}
	return "sha256:" + found[0], true
}

// digestsReadDir reads at most limit entries of dir, sorted by name so that
// problems come out in a stable order; truncated says more were there.
func digestsReadDir(dir string, limit int) (entries []os.DirEntry, truncated bool, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	for len(entries) <= limit {
		batch, err := f.ReadDir(min(1024, limit+1-len(entries)))
		entries = append(entries, batch...)
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	if len(entries) > limit {
		entries, truncated = entries[:limit], true
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, truncated, nil
}

// digestsArtifactName splits digests<suffix>--<platform-tag>. The split is
// at the last "--", since a suffix may contain dashes but never ends the
// name; the suffix must start with '-' like every tag-suffix.
func digestsArtifactName(name string) (suffix, platformTag string, ok bool) {
	rest, ok := strings.CutPrefix(name, "digests")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "--")
	if i < 0 {
		return "", "", false
	}
	suffix, platformTag = rest[:i], rest[i+2:]
	if len(suffix) < 2 || suffix[0] != '-' {
		return "", "", false
	}
	switch platformTag {
	case "amd64", "arm64", "single":
		return suffix, platformTag, true
	}
	return "", "", false
}

// digestsIsHex64 reports whether s is a sha256 hex digest as CI writes it
// (lowercase).
func digestsIsHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
