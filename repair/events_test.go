package repair

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A reader of the events that stops at the first one (a screen that no
// longer reads) does not stall the re-merge: every tag moves while the
// reader is still stuck, and Execute returns once it reads again. Before
// the broker, Execute called the reader itself, under its events lock, and
// waited with it at the first step.
func TestStuckEventReaderDoesNotStallExecute(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.incident(t)
	p := w.plan(t, w.incidentReport(), "quay")
	var tags []string
	for _, tg := range p.Tags {
		if tg.Pending() {
			tags = append(tags, tg.Tag)
		}
	}
	if len(tags) == 0 {
		t.Fatalf("the plan moves no tag:\n%s", p)
	}
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	type result struct {
		r   *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Execute(context.Background(), w.c, p, WithAudit(w.audit), WithEvents(func(Event) {
			once.Do(func() { close(stuck) })
			<-release
		}))
		done <- result{r, err}
	}()
	<-stuck
	guard := time.Now().Add(time.Minute) // a hang guard, not a timing assertion
	for moved := false; !moved; {
		moved = true
		for _, tag := range tags {
			if resolve(t, w.quay, quayPath, tag) != p.ListDigest {
				moved = false
			}
		}
		if !moved && time.Now().After(guard) {
			close(release)
			t.Fatal("the tags did not move while the event reader was stuck")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	out := <-done
	if out.err != nil || !out.r.Verified {
		t.Fatalf("Execute = %v (verified %v) once the reader read again", out.err, out.r != nil && out.r.Verified)
	}
}
