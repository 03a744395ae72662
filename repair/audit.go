package repair

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/adrg/xdg"

	"github.com/go-skynet/remerge/internal/release"
)

// The audit log is a write-ahead record, one JSON object per line, each
// naming its Event. A re-merge appends an intent line (synced to disk)
// before its first write to a registry and an outcome line after it; the
// next run reconciles an intent left without a settled outcome (the
// process was killed, the machine lost power) by reading the tags back
// (Reconcile). So the log never claims less than what happened.
const (
	// EventIntent is written before the first write: what will be
	// published and which tags will move, from which digests.
	EventIntent = "intent"
	// EventOutcome is written when Execute returns, also on failure or
	// cancel: which tags moved, as read back from the registry.
	EventOutcome = "outcome"
	// EventReconciled is written by a later run for an intent whose outcome
	// never came (or could not read every tag back).
	EventReconciled = "reconciled"
)

// Results of an outcome or reconciled line.
const (
	ResultOK          = "ok"          // published and every tag read back
	ResultNothing     = "nothing"     // nothing to do: already healthy
	ResultFailed      = "failed"      // stopped part-way; see Error
	ResultInterrupted = "interrupted" // reconciled: the run never said how it ended
)

// AuditEntry is one line of the audit log. Repos are as written in the
// config; no credential ever reaches it. Fields that do not apply to an
// Event are left out.
type AuditEntry struct {
	Event string `json:"event"`
	// ID ties an intent to its outcome or reconciled lines.
	ID      string          `json:"id"`
	Time    time.Time       `json:"time"`
	User    string          `json:"user"`
	Host    string          `json:"host"`
	PID     int             `json:"pid,omitempty"`
	Release release.Release `json:"release"`
	Backend string          `json:"backend"`
	Target  string          `json:"target"`
	Repo    string          `json:"repo"`

	ListDigest string       `json:"list_digest"`
	Children   []AuditChild `json:"children,omitempty"`
	// Moves (intent) are the tags the re-merge will write, each with the
	// digest it pointed to at plan time.
	Moves []AuditMove `json:"moves,omitempty"`
	Force bool        `json:"force,omitempty"`

	// Result (outcome, reconciled) is one of the Result* words; Error says
	// why a failed re-merge stopped.
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	// TagsMoved are the tags this re-merge moved to ListDigest, as read
	// back; TagsNotMoved the tags of the intent that did not move.
	TagsMoved    []string `json:"tags_moved,omitempty"`
	TagsNotMoved []string `json:"tags_not_moved,omitempty"`
	// TagsUnknown are "tag: error" for tags that could not be read back:
	// they may have moved. The intent stays open until a later line of its
	// ID has none.
	TagsUnknown []string `json:"tags_unknown,omitempty"`
	// Tags are the tags pointing at ListDigest afterwards (moved now or
	// already there); TagsSkipped the ones left alone, with the reason.
	// Outcome is the result in words ("published", "nothing to do",
	// "failed: <reason>"). These three are what the log held before it had
	// events; old readers keep working on outcome lines.
	Tags        []string `json:"tags,omitempty"`
	TagsSkipped []string `json:"tags_skipped,omitempty"`
	Outcome     string   `json:"outcome,omitempty"`
	// Signed (outcome) is set when repair --sign ran cosign on the list:
	// true when it signed, false with SignError when it failed.
	Signed    *bool  `json:"signed,omitempty"`
	SignError string `json:"sign_error,omitempty"`
}

// AuditChild is one child of the published list and where it came from.
type AuditChild struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Source   string `json:"source"`
}

// AuditMove is one tag an intent will move: From "" means the tag did not
// exist.
type AuditMove struct {
	Tag  string `json:"tag"`
	From string `json:"from"`
	To   string `json:"to"`
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

// auditLog is where one Execute or Reconcile writes, and as whom.
type auditLog struct {
	path, user, host string
}

func openAuditLog(o options) (auditLog, error) {
	a := auditLog{path: o.auditPath, user: o.user}
	if a.path == "" {
		var err error
		if a.path, err = DefaultAuditPath(); err != nil {
			return a, err
		}
	}
	if a.user == "" {
		a.user = currentUser()
	}
	a.host, _ = os.Hostname()
	return a, nil
}

// entry starts a line about plan p: who, when, what.
func (a auditLog) entry(event, id string, p *Plan) AuditEntry {
	e := AuditEntry{
		Event: event, ID: id, Time: time.Now().UTC(), User: a.user, Host: a.host, PID: os.Getpid(),
		Release: p.Release, Backend: p.Suffix, Target: p.Target, Repo: p.Repo, ListDigest: p.ListDigest,
	}
	for _, l := range p.Legs {
		e.Children = append(e.Children, AuditChild{Platform: l.Platform, Digest: l.Digest, Source: l.Source})
	}
	return e
}

// intent is the line written before the first write of plan p.
func (a auditLog) intent(id string, p *Plan) AuditEntry {
	e := a.entry(EventIntent, id, p)
	e.Force = p.Force
	for _, t := range p.Tags {
		if t.Pending() {
			e.Moves = append(e.Moves, AuditMove{Tag: t.Tag, From: t.From, To: t.To})
		}
	}
	return e
}

// outcome describes r, whose tags have been settled, as the line that
// closes intent id.
func (a auditLog) outcome(id string, r *Result, err error) AuditEntry {
	p := r.Plan
	e := a.entry(EventOutcome, id, p)
	e.Outcome = r.Outcome
	switch {
	case r.NoOp && err != nil:
		e.Result, e.Error = ResultNothing, redactedText(err)
	case r.NoOp:
		e.Result = ResultNothing
	case err != nil:
		e.Result, e.Error = ResultFailed, redactedText(err)
	default:
		e.Result = ResultOK
	}
	if r.Signed || r.SignError != "" {
		signed := r.Signed
		e.Signed, e.SignError = &signed, r.SignError
	}
	moved := map[string]bool{}
	for _, t := range r.TagsMoved {
		moved[t] = true
	}
	unknown := map[string]bool{}
	for _, u := range r.TagsUnknown {
		unknown[u.Tag] = true
		e.TagsUnknown = append(e.TagsUnknown, u.Tag+": "+u.Err)
	}
	e.TagsMoved = r.TagsMoved
	for _, t := range p.Tags {
		switch {
		case t.Skip != "":
			e.TagsSkipped = append(e.TagsSkipped, t.Tag+": "+t.Skip)
			continue
		case moved[t.Tag] || t.From == t.To || r.Verified:
			e.Tags = append(e.Tags, t.Tag)
		}
		if t.Pending() && !moved[t.Tag] && !unknown[t.Tag] && !r.Verified {
			e.TagsNotMoved = append(e.TagsNotMoved, t.Tag)
		}
	}
	return e
}

// AppendAudit appends one JSON line to the log at path and syncs it to
// disk before returning, so an intent is on disk before the write it
// announces. The file is opened O_APPEND and the line written in one
// write, under a lock within this process, so concurrent re-merges (of
// one repair --all, or of two terminals) interleave whole lines, never
// halves. It is safe for concurrent use.
func AppendAudit(path string, e AuditEntry) error { return appendAudit(path, e, true) }

// appendAudit is AppendAudit with the sync optional: an intent must be on
// disk before the first write (about 2 ms a line here); an outcome or
// reconciled line lost in a crash only leaves its intent open, which the
// next run reconciles, so those skip the sync.
func appendAudit(path string, e AuditEntry, sync bool) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding audit entry: %w", err)
	}
	line = append(line, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating audit log directory: %w", err)
	}
	// One process writes many lines at once (repair --all executes pairs
	// concurrently): the lock makes each line one uninterrupted write in
	// this process whatever the platform's O_APPEND promises, and
	// O_APPEND keeps lines of another process whole. The sync is left
	// outside it, so one pair's fsync does not hold up another's line.
	auditMu.Lock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		auditMu.Unlock()
		return fmt.Errorf("opening audit log: %w", err)
	}
	_, err = f.Write(line)
	auditMu.Unlock()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("appending to audit log %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return fmt.Errorf("syncing audit log %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing audit log %s: %w", path, err)
	}
	return nil
}

// auditMu serialises this process's appends to audit logs.
var auditMu sync.Mutex

// newAuditID names one re-merge: 16 random hex digits.
func newAuditID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
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
