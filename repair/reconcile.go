package repair

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/go-skynet/remerge/internal/registry"
)

// reconcileTimeout bounds the read-back of one run's open intents, so an
// intent about a registry that no longer answers cannot stall every repair.
const reconcileTimeout = 30 * time.Second

// maxAuditLine bounds one line of the audit log when reading it back; real
// lines are a few kilobytes.
const maxAuditLine = 1 << 20

// Reconciliation is what Reconcile did with one open intent.
type Reconciliation struct {
	Intent AuditEntry
	// Line is the reconciled line appended; nil when nothing could be
	// read back (the intent stays open, Err says why).
	Line *AuditEntry
	Err  error
}

// Reconcile settles the audit log's open intents: re-merges that wrote an
// intent line and then never an outcome whose every tag was read back (the
// process was killed, the machine went down, the registry stopped
// answering). For each one it reads the intent's tags back from the
// registry and appends a reconciled line saying which moved, so the log
// never claims less than what happened. An intent of a process still
// running on this host is left alone. The audit path and user come from
// the options, as for Execute; a missing log is no error.
func Reconcile(ctx context.Context, c *registry.Client, opts ...Option) ([]Reconciliation, error) {
	o := makeOptions(opts)
	log, err := openAuditLog(o)
	if err != nil {
		return nil, err
	}
	open, err := openIntents(log.path, log.host)
	if err != nil || len(open) == 0 {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
	defer cancel()
	var out []Reconciliation
	for _, in := range open {
		rec := Reconciliation{Intent: in}
		line, err := readBackIntent(ctx, c, log, in)
		switch {
		case err != nil:
			rec.Err = err
		case line != nil:
			if err := appendAudit(log.path, *line, false); err != nil {
				return out, fmt.Errorf("writing audit log: %w", err)
			}
			rec.Line = line
		}
		out = append(out, rec)
	}
	return out, nil
}

// openIntents reads the log and returns, oldest first, the intents with no
// settled outcome (an outcome or reconciled line of the same ID with no
// unknown tag), leaving out those of processes alive on this host. Lines
// that do not parse (a line cut by a crash, a line of an older remerge
// without an event) are skipped.
func openIntents(path, host string) ([]AuditEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	defer f.Close()
	var order []string
	intents := map[string]AuditEntry{}
	settled := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxAuditLine)
	for sc.Scan() {
		var e AuditEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.ID == "" {
			continue
		}
		switch e.Event {
		case EventIntent:
			if _, seen := intents[e.ID]; !seen {
				order = append(order, e.ID)
			}
			intents[e.ID] = e
		case EventOutcome, EventReconciled:
			if len(e.TagsUnknown) == 0 {
				settled[e.ID] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading audit log %s: %w", path, err)
	}
	var open []AuditEntry
	for _, id := range order {
		in := intents[id]
		if settled[id] || (in.Host == host && in.PID > 0 && processAlive(in.PID)) {
			continue
		}
		open = append(open, in)
	}
	return open, nil
}

// readBackIntent reads every tag of an intent back. It returns the
// reconciled line, or an error when no tag could be read (the intent then
// stays open for the next run).
func readBackIntent(ctx context.Context, c *registry.Client, log auditLog, in AuditEntry) (*AuditEntry, error) {
	e := in
	e.Event, e.Time, e.User, e.Host, e.PID = EventReconciled, time.Now().UTC(), log.user, log.host, 0
	e.Moves, e.Force, e.Result = nil, false, ResultInterrupted
	e.Outcome = "interrupted: reconciled by a later run from the tags read back"
	if len(in.Moves) == 0 {
		return &e, nil
	}
	dst, err := c.Repository(in.Repo)
	if err != nil {
		return nil, fmt.Errorf("reconciling %s in %s: %w", in.Backend, in.Target, err)
	}
	var lastErr error
	for _, m := range in.Moves {
		d, err := headManifest(ctx, c, dst.Tag(m.Tag))
		switch {
		case err != nil:
			lastErr = err
			e.TagsUnknown = append(e.TagsUnknown, m.Tag+": "+redactedText(err))
		case d != nil && d.Digest.String() == m.To && m.From != m.To:
			e.TagsMoved = append(e.TagsMoved, m.Tag)
		default:
			e.TagsNotMoved = append(e.TagsNotMoved, m.Tag)
		}
	}
	if len(e.TagsUnknown) == len(in.Moves) {
		return nil, fmt.Errorf("reconciling %s in %s: no tag could be read back: %s", in.Backend, in.Target, redactedText(lastErr))
	}
	e.Tags = e.TagsMoved
	return &e, nil
}
