package repair

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/go-skynet/remerge/internal/manifest"
	"github.com/go-skynet/remerge/internal/registry"
	"github.com/go-skynet/remerge/internal/release"
)

// Execute carries out a plan made by NewPlan. Order: per child, check its
// blobs in the target and mount or copy the missing ones, then put the child
// manifest by digest (a plan made seconds ago stands for these checks: see
// blobCheckFresh); then check every child is in the target (a list is
// never written over an absent child); then put the list by digest; then
// move the tags, each re-read first so a tag changed since the plan is not
// overwritten (unless WithForce); then read every tag back.
//
// Tags are last: a failure or a cancelled ctx before them leaves every tag
// as it was. A cancel during the tag step starts no further tag write; the
// write in flight is let finish (bounded by the client's timeout) so that
// what moved is known. The audit log gets an intent line, synced, before
// the first write (Execute writes nothing when it cannot append it) and an
// outcome line at the end, whatever happens, stating the tags that moved as
// read back from the registry.
func Execute(ctx context.Context, c *registry.Client, p *Plan, opts ...Option) (*Result, error) {
	o := makeOptions(opts)
	o.force = o.force || p.Force
	defer o.startEvents(ctx)()
	r := &Result{Plan: p}
	if p.Refusal != "" {
		return r, fmt.Errorf("re-merge of %s into %s refused: %s", p.Suffix, p.Target, p.Refusal)
	}
	log, err := openAuditLog(o)
	if err != nil {
		return r, fmt.Errorf("writing audit log: %w", err)
	}
	r.AuditPath, r.AuditID = log.path, newAuditID()
	if p.NoOp {
		r.NoOp, r.Outcome = true, OutcomeNothing
		// Signing a healthy list that is unsigned (repair --sign) writes
		// only signatures: no intent line guards tags here.
		var serr error
		if p.SignOnly && o.signer != nil {
			serr = signResult(ctx, o, r)
		}
		if err := appendAudit(log.path, log.outcome(r.AuditID, r, serr), false); err != nil {
			return r, errors.Join(serr, fmt.Errorf("writing audit log: %w", err))
		}
		return r, serr
	}
	if err := AppendAudit(log.path, log.intent(r.AuditID, p)); err != nil {
		return r, fmt.Errorf("writing the audit log's intent line, so nothing was written to %s: %w", p.Repo, err)
	}
	err = execute(ctx, c, p, o, r)
	r.Outcome = OutcomePublished
	if err != nil {
		r.Outcome = outcomeFailed + redactedText(err)
	}
	settleTags(ctx, c, r)
	if err == nil && o.signer != nil && r.Verified {
		err = signResult(ctx, o, r)
	}
	if aerr := appendAudit(log.path, log.outcome(r.AuditID, r, err), false); aerr != nil {
		err = errors.Join(err, fmt.Errorf("writing audit log: %w", aerr))
	}
	return r, err
}

// readBackTimeout bounds reading the tags back after a failed or cancelled
// tag step: long enough for a few HEADs, short enough not to hold a
// ctrl+c. What it cannot read stays open for the next run's Reconcile.
const readBackTimeout = 15 * time.Second

// settleTags reads back the tag whose write was sent but not answered, so
// that Result and the audit log count it as moved if it landed.
func settleTags(ctx context.Context, c *registry.Client, r *Result) {
	tag := r.attempted
	if tag == "" {
		return
	}
	r.attempted = ""
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readBackTimeout)
	defer cancel()
	var d *v1.Descriptor
	dst, err := c.Repository(r.Plan.Repo)
	if err == nil {
		d, err = headManifest(ctx, c, dst.Tag(tag))
	}
	switch {
	case err != nil:
		r.TagsUnknown = append(r.TagsUnknown, TagError{Tag: tag, Err: redactedText(err)})
	case d != nil && d.Digest.String() == r.Plan.ListDigest:
		r.TagsMoved = append(r.TagsMoved, tag)
	}
}

func redactedText(err error) string { return registry.Redact(err.Error()) }

func execute(ctx context.Context, c *registry.Client, p *Plan, o options, r *Result) error {
	dst, err := c.Repository(p.Repo)
	if err != nil {
		return err
	}
	w, err := o.session.writer(ctx, c)
	if err != nil {
		return err
	}
	// A single leg is a one-entry list too (buildx --prefer-index); only
	// with prefer_index: false is the child itself published.
	list := manifest.IsList(p.ListMediaType)
	st := &steps{o: o, max: 2}
	for _, l := range p.Legs {
		st.max += 2 * (1 + len(l.Parts))
	}
	if list {
		st.max++
	}
	for _, t := range p.Tags {
		if t.Pending() {
			st.max++
		}
	}
	// The plan's blob check stands when it is fresh (repair --yes plans
	// and executes at once); a plan kept longer (a confirmation, a TUI
	// dialog) is checked again.
	// Once executed, a plan's look at the world is spent: executing it
	// again checks everything afresh.
	fresh := !p.checked.IsZero() && time.Since(p.checked) < blobCheckFresh
	p.checked = time.Time{}
	for _, l := range p.Legs {
		if err := copyLeg(ctx, c, w, dst, l, fresh, st, r); err != nil {
			return err
		}
	}
	if err := st.next(ctx, "verify every child is in %s", p.Repo); err != nil {
		return err
	}
	for _, l := range p.Legs {
		for _, m := range append(slices.Clone(l.Parts), l) {
			d, err := headManifest(ctx, c, dst.Digest(m.Digest))
			if err != nil {
				return err
			}
			if d == nil {
				return fmt.Errorf("%s child %s is absent from %s after copying; the list was not written", l.PlatformTag, m.Digest, p.Repo)
			}
		}
	}
	if list {
		if err := st.next(ctx, "put list %s", short(p.ListDigest)); err != nil {
			return err
		}
		if err := w.putManifest(ctx, dst.Digest(p.ListDigest), p.List, p.ListMediaType); err != nil {
			return err
		}
		r.ListWritten = true
	}
	if err := moveTags(ctx, c, w, dst, p, o, st, r); err != nil {
		return err
	}
	if err := st.next(ctx, "read the tags back"); err != nil {
		return err
	}
	for _, t := range p.Tags {
		if t.Skip != "" {
			continue
		}
		d, err := headManifest(ctx, c, dst.Tag(t.Tag))
		if err != nil {
			return err
		}
		if d == nil || d.Digest.String() != p.ListDigest {
			return fmt.Errorf("tag %s does not read back as %s", t.Tag, p.ListDigest)
		}
	}
	r.Verified = true
	return nil
}

// blobCheckFresh is how long the plan's look at the target's blobs stands
// in for Execute's own: a few seconds between planning and executing
// cannot lose a blob link that a registry's GC takes hours to reap, and a
// link lost anyway makes the child's PUT fail, never a list over it.
const blobCheckFresh = 30 * time.Second

// copyLeg makes the target hold one child: its blobs, then its manifest;
// for an attested build's index, first every manifest it names.
// With fresh the blobs the plan found missing are the ones copied and the
// manifest is put without asking first; otherwise each is checked again.
func copyLeg(ctx context.Context, c *registry.Client, w *writer, dst name.Repository, l LegPlan, fresh bool, st *steps, r *Result) error {
	for _, part := range l.Parts {
		if err := copyLeg(ctx, c, w, dst, part, fresh, st, r); err != nil {
			return err
		}
	}
	if err := st.next(ctx, "%s: check %d blobs in the target", l.PlatformTag, len(l.Blobs)); err != nil {
		return err
	}
	var missing []Blob
	var total int64
	for _, b := range l.Blobs {
		found := !b.Missing
		if !fresh {
			var err error
			if found, err = c.BlobExists(ctx, dst, b.Digest); err != nil {
				return err
			}
		}
		if !found {
			missing = append(missing, b)
			total += b.Size
		}
	}
	if len(missing) > 0 && l.Kind == SourceTarget {
		return fmt.Errorf("%s child: blob %s is missing from the target and the plan has no other source; plan again", l.PlatformTag, missing[0].Digest)
	}
	if len(missing) > 0 {
		src, err := c.Repository(l.Source)
		if err != nil {
			return err
		}
		prog := &byteProgress{o: st.o, leg: l.PlatformTag, total: total}
		for _, b := range missing {
			uploaded, err := w.copyBlob(ctx, src, dst, b, l.Kind == SourceMount, prog.add)
			if err != nil {
				return fmt.Errorf("%s child: %w", l.PlatformTag, err)
			}
			if uploaded {
				r.Copied = append(r.Copied, b.Digest)
				r.BytesCopied += b.Size
			} else {
				r.Mounted = append(r.Mounted, b.Digest)
			}
		}
		prog.flush()
	}
	if err := st.next(ctx, "%s: put manifest %s", l.PlatformTag, short(l.Digest)); err != nil {
		return err
	}
	if l.Kind == SourceTarget {
		// In the target at plan time; the next step reads it again.
		return nil
	}
	if !fresh {
		// A plan kept a while may have been carried out meanwhile.
		if d, err := headManifest(ctx, c, dst.Digest(l.Digest)); err != nil || d != nil {
			return err
		}
	}
	// Fresh: absent a moment ago, and a PUT of the same bytes under the
	// same digest changes nothing if it came back meanwhile.
	if err := w.putManifest(ctx, dst.Digest(l.Digest), l.Raw, l.MediaType); err != nil {
		return fmt.Errorf("%s child: %w", l.PlatformTag, err)
	}
	r.Manifests = append(r.Manifests, l.Digest)
	return nil
}

// moveTags points the pending tags at the list. Each tag is read again
// first: one that moved since the plan is left alone unless forced. No tag
// write starts once ctx is cancelled, but the one in flight is not cut off:
// its answer says whether it moved.
func moveTags(ctx context.Context, c *registry.Client, w *writer, dst name.Repository, p *Plan, o options, st *steps, r *Result) error {
	fail := func(err error) error {
		var notes []string
		if len(r.TagsMoved) > 0 {
			notes = append(notes, "tags already moved: "+strings.Join(r.TagsMoved, ", "))
		}
		if r.attempted != "" {
			notes = append(notes, "tag "+r.attempted+" may have moved: its write did not succeed; it is read back")
		}
		if len(notes) == 0 {
			notes = append(notes, "no tag was moved")
		}
		return fmt.Errorf("%w (%s)", err, strings.Join(notes, "; "))
	}
	for _, t := range p.Tags {
		if !t.Pending() {
			continue
		}
		if err := st.next(ctx, "tag %s", t.Tag); err != nil {
			return fail(err)
		}
		d, err := headManifest(ctx, c, dst.Tag(t.Tag))
		if err != nil {
			return fail(err)
		}
		now := ""
		if d != nil {
			now = d.Digest.String()
		}
		if now == t.To {
			continue
		}
		if now != t.From && release.ForwardOnly(t.Role) {
			// latest only moves forward, and force does not change that:
			// whatever moved it since the plan may be a newer release.
			return fail(fmt.Errorf("tag %s changed since the plan (was %s, now %s); latest is never moved over a change, plan again", t.Tag, orMissing(t.From), orMissing(now)))
		}
		if now != t.From && !o.force {
			return fail(fmt.Errorf("tag %s changed since the plan (was %s, now %s); plan again", t.Tag, orMissing(t.From), orMissing(now)))
		}
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("cancelled before moving tag %s: %w", t.Tag, err))
		}
		r.attempted = t.Tag
		if err := w.putManifest(context.WithoutCancel(ctx), dst.Tag(t.Tag), p.List, p.ListMediaType); err != nil {
			return fail(err)
		}
		r.attempted = ""
		r.TagsMoved = append(r.TagsMoved, t.Tag)
	}
	return nil
}

func orMissing(d string) string {
	if d == "" {
		return "missing"
	}
	return short(d)
}
