package testreg

import (
	"testing"
	"time"
)

// TestOccupancy: a limit of 2, served as 1, 2, 1, 0, 1, 0 requests in
// flight over 10 ms steps.
func TestOccupancy(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := Stats{steps: []step{
		{at(0), 1},  // a arrives
		{at(10), 2}, // b arrives: full
		{at(20), 1}, // a answered
		{at(30), 0}, // b answered: idle
		{at(40), 1}, // c arrives
		{at(50), 0}, // c answered: the end
	}}
	o := s.Occupancy(2)
	want := Occupancy{
		Start:      at(0),
		End:        at(50),
		Span:       50 * time.Millisecond,
		Mean:       1.0, // (1+2+1+0+1)*10 ms over 50 ms
		PerRequest: 50 * time.Millisecond / 3,
		Full:       10 * time.Millisecond,
		Idle:       10 * time.Millisecond,
		Ramp:       10 * time.Millisecond,
		Tail:       30 * time.Millisecond,
	}
	if o != want {
		t.Errorf("Occupancy(2) = %+v\nwant %+v", o, want)
	}
	if o := (Stats{}).Occupancy(2); o != (Occupancy{}) {
		t.Errorf("no traffic: %+v, want zero", o)
	}
	if o := s.Occupancy(3); o.Full != 0 || o.Ramp != o.Span || o.Tail != 0 {
		t.Errorf("never full: %+v, want Ramp = Span and no Full or Tail", o)
	}
}

// TestOccupancyFromTraffic: the recorder logs real requests.
func TestOccupancyFromTraffic(t *testing.T) {
	r := newRecorder()
	leave := r.enter()
	time.Sleep(5 * time.Millisecond)
	leave()
	leave() // counted out once
	o := r.snapshot().Occupancy(1)
	if o.Span < 5*time.Millisecond || o.Full != o.Span || o.PerRequest != o.Span {
		t.Errorf("one request: %+v, want it full for its whole span", o)
	}
	r.reset()
	if o := r.snapshot().Occupancy(1); o.Span != 0 {
		t.Errorf("after reset: %+v, want nothing", o)
	}
	// A request in flight across a reset counts from the reset on.
	leave = r.enter()
	r.reset()
	time.Sleep(5 * time.Millisecond)
	leave()
	if o := r.snapshot().Occupancy(1); o.Span < 5*time.Millisecond || o.PerRequest != o.Span || o.Full != o.Span {
		t.Errorf("in flight across a reset: %+v, want one request, full from the reset to its end", o)
	}
}
