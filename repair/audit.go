package repair

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/adrg/xdg"

	"github.com/go-skynet/remerge/inspect"
)

// AuditEntry is one line of the audit log: who re-merged what, where, from
// which sources, and how it ended. Repos are as written in the config; no
// credential ever reaches it.
type AuditEntry struct {
	Time    time.Time       `json:"time"`
	User    string          `json:"user"`
	Host    string          `json:"host"`
	Release inspect.Release `json:"release"`
	Backend string          `json:"backend"`
	Target  string          `json:"target"`
	Repo    string          `json:"repo"`
	// Tags are the tags pointing at ListDigest after the repair (moved now
	// or already there); TagsSkipped the ones left alone, with the reason.
	Tags        []string     `json:"tags"`
	TagsSkipped []string     `json:"tags_skipped,omitempty"`
	ListDigest  string       `json:"list_digest"`
	Children    []AuditChild `json:"children"`
	Outcome     string       `json:"outcome"`
	// Signed is set when repair --sign ran cosign on the list: true when
	// it signed, false with SignError when it failed.
	Signed    *bool  `json:"signed,omitempty"`
	SignError string `json:"sign_error,omitempty"`
}

// AuditChild is one child of the published list and where it came from.
type AuditChild struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Source   string `json:"source"`
}

// DefaultAuditPath is $XDG_STATE_HOME/remerge/audit.jsonl
// (~/.local/state/remerge/audit.jsonl), creating the directory.
func DefaultAuditPath() (string, error) {
	p, err := xdg.StateFile(filepath.Join("remerge", "audit.jsonl"))
	if err != nil {
		return "", fmt.Errorf("locating the audit log: %w", err)
	}
	return p, nil
}

// NewAuditEntry describes a result as one audit line.
func NewAuditEntry(r *Result, who string) AuditEntry {
	p := r.Plan
	host, _ := os.Hostname()
	e := AuditEntry{
		Time: time.Now().UTC(), User: who, Host: host, Release: p.Release,
		Backend: p.Suffix, Target: p.Target, Repo: p.Repo,
		Tags: []string{}, ListDigest: p.ListDigest, Outcome: r.Outcome,
	}
	if r.Signed || r.SignError != "" {
		signed := r.Signed
		e.Signed, e.SignError = &signed, r.SignError
	}
	moved := map[string]bool{}
	for _, t := range r.TagsMoved {
		moved[t] = true
	}
	for _, t := range p.Tags {
		switch {
		case t.Skip != "":
			e.TagsSkipped = append(e.TagsSkipped, t.Tag+": "+t.Skip)
		case moved[t.Tag] || t.From == t.To || r.Verified:
			e.Tags = append(e.Tags, t.Tag)
		}
	}
	for _, l := range p.Legs {
		e.Children = append(e.Children, AuditChild{Platform: l.Platform, Digest: l.Digest, Source: l.Source})
	}
	return e
}

// writeAudit appends the result's line to the audit log and returns the
// path written.
func writeAudit(o options, r *Result) (string, error) {
	path := o.auditPath
	if path == "" {
		var err error
		if path, err = DefaultAuditPath(); err != nil {
			return "", err
		}
	}
	who := o.user
	if who == "" {
		who = currentUser()
	}
	return path, AppendAudit(path, NewAuditEntry(r, who))
}

// AppendAudit appends one JSON line to the log at path. The file is opened
// O_APPEND and the line written in one write, so concurrent repairs (two
// terminals) interleave whole lines, never halves.
func AppendAudit(path string, e AuditEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding audit entry: %w", err)
	}
	line = append(line, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating audit log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("appending to audit log %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing audit log %s: %w", path, err)
	}
	return nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
