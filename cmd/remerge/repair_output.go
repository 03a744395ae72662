package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
)

// repairOutput is where concurrent pairs write, one whole block at a time,
// so lines of two pairs never interleave. On a terminal it also keeps one
// status line at the bottom (pairs done of all, failures, bytes copied,
// ETA), redrawn in place with \r; a block is printed above it. Elsewhere
// (a pipe, CI) there is no status line, only blocks.
type repairOutput struct {
	w, errw io.Writer
	tty     bool

	mu                  sync.Mutex
	phase               string
	total, done, failed int
	bytes               int64
	start               time.Time
	drawn               bool
	stop                chan struct{}
	ticker              sync.WaitGroup
}

// statusEvery is how often the status line is redrawn while nothing
// finishes, so the ETA and the byte count keep moving.
const statusEvery = 250 * time.Millisecond

func newRepairOutput(w, errw io.Writer, tty bool) *repairOutput {
	return &repairOutput{w: w, errw: errw, tty: tty}
}

// begin starts a phase ("planning", "re-merging") of total pairs.
func (o *repairOutput) begin(phase string, total int) {
	o.mu.Lock()
	o.phase, o.total, o.done, o.failed, o.start = phase, total, 0, 0, time.Now()
	o.redraw()
	o.mu.Unlock()
	if !o.tty {
		return
	}
	o.stop = make(chan struct{})
	o.ticker.Go(func() {
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			select {
			case <-o.stop:
				return
			case <-t.C:
				o.mu.Lock()
				o.redraw()
				o.mu.Unlock()
			}
		}
	})
}

// end clears the status line.
func (o *repairOutput) end() {
	if o.stop != nil {
		close(o.stop)
		o.ticker.Wait()
		o.stop = nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clear()
}

// pairDone counts one pair finished.
func (o *repairOutput) pairDone(failed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done++
	if failed {
		o.failed++
	}
	o.redraw()
}

// addBytes counts blob bytes copied across registries (negative when a
// retried upload starts over).
func (o *repairOutput) addBytes(n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bytes += n
}

// block prints one finished pair: full off a terminal, short on one (the
// status line stands for its step lines). An empty text prints nothing.
func (o *repairOutput) block(full, short string) {
	text := full
	if o.tty {
		text = short
	}
	if text == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clear()
	io.WriteString(o.w, text)
	o.redraw()
}

// errorf prints one line on stderr, above the status line.
func (o *repairOutput) errorf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clear()
	fmt.Fprintf(o.errw, format, args...)
	o.redraw()
}

// clear erases the status line. Callers hold mu.
func (o *repairOutput) clear() {
	if o.drawn {
		io.WriteString(o.w, "\r\x1b[K")
		o.drawn = false
	}
}

// redraw writes the status line in place. Callers hold mu.
func (o *repairOutput) redraw() {
	if !o.tty || o.total == 0 {
		return
	}
	io.WriteString(o.w, "\r\x1b[K"+o.status(time.Since(o.start)))
	o.drawn = true
}

// status is the status line's text after elapsed.
func (o *repairOutput) status(elapsed time.Duration) string {
	s := fmt.Sprintf("%s: %d/%d pairs", o.phase, o.done, o.total)
	if o.failed > 0 {
		s += fmt.Sprintf(", %d failed", o.failed)
	}
	if o.bytes > 0 {
		s += fmt.Sprintf(", %s copied", humanize.IBytes(uint64(o.bytes)))
	}
	s += fmt.Sprintf(", %s elapsed", elapsed.Round(time.Second))
	if o.done > 0 && o.done < o.total {
		eta := time.Duration(float64(elapsed) / float64(o.done) * float64(o.total-o.done))
		s += fmt.Sprintf(", about %s left", eta.Round(time.Second))
	}
	return s
}
