package inboxtest

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when the test moves it (Advance): for
// the tests of the inbox's daemon and batch, which then wait for no settle,
// backoff or rescan time. It implements inbox.Clock; give the pipeline its
// Now too, so that both go by the same time.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*timer]bool
	made   int           // timers made so far
	wake   chan struct{} // closed (and replaced) when a timer is made
}

type timer struct {
	at time.Time
	c  chan time.Time
}

// NewClock returns a clock that reads start until it is moved.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: map[*timer]bool{}, wake: make(chan struct{})}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer is a timer that fires when the clock is moved d on (at once
// when d <= 0).
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.made++
	close(c.wake)
	c.wake = make(chan struct{})
	if d <= 0 {
		t.c <- c.now
		return t.c, func() bool { return false }
	}
	c.timers[t] = true
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		pending := c.timers[t]
		delete(c.timers, t)
		return pending
	}
}

// Advance moves the clock d on and fires the timers that are then due. It
// returns how many timers were made before it (for WaitTimer) and how many
// it fired.
func (c *Clock) Advance(d time.Duration) (made, fired int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			delete(c.timers, t)
			fired++
		}
	}
	return c.made, fired
}

// Waiting is how many timers wait to fire.
func (c *Clock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitWaiting waits until a timer waits to fire (the daemon is done with
// what it was doing and waits on the clock) or limit has passed in real
// time; it reports which.
func (c *Clock) WaitWaiting(limit time.Duration) bool {
	return c.waitFor(limit, func() bool { return len(c.timers) > 0 })
}

// WaitTimer waits until more than made timers were made (the daemon has
// finished what it was doing and waits on the clock again) or limit has
// passed in real time; it reports which.
func (c *Clock) WaitTimer(made int, limit time.Duration) bool {
	return c.waitFor(limit, func() bool { return c.made > made })
}

// waitFor waits until ok (called with c.mu held) holds, checked whenever a
// timer is made, or limit has passed in real time.
func (c *Clock) waitFor(limit time.Duration, ok func() bool) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		done, wake := ok(), c.wake
		c.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-wake:
		case <-deadline.C:
			return false
		}
	}
}
