package inboxtest

import (
	"testing"
	"time"
)

// A timer fires when the clock is moved past it, not before, and not once
// it was stopped; WaitTimer sees a timer made after Advance.
func TestClock(t *testing.T) {
	start := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	c := NewClock(start)
	soon, _ := c.NewTimer(time.Second)
	_, stopLater := c.NewTimer(time.Minute)
	if now, _ := c.NewTimer(0); len(now) != 1 {
		t.Error("a timer of 0 did not fire at once")
	}
	made, fired := c.Advance(999 * time.Millisecond)
	if fired != 0 {
		t.Errorf("%d timers fired early", fired)
	}
	select {
	case <-soon:
		t.Fatal("fired early")
	default:
	}
	if _, fired := c.Advance(time.Millisecond); fired != 1 {
		t.Errorf("%d timers fired, want 1", fired)
	}
	select {
	case at := <-soon:
		if !at.Equal(start.Add(time.Second)) {
			t.Errorf("fired at %v", at)
		}
	default:
		t.Fatal("did not fire when due")
	}
	if !c.WaitWaiting(10 * time.Millisecond) {
		t.Error("WaitWaiting missed the timer that waits")
	}
	if !stopLater() || c.Waiting() != 0 {
		t.Errorf("stop: %d timers still waiting", c.Waiting())
	}
	if c.WaitWaiting(10 * time.Millisecond) {
		t.Error("WaitWaiting saw a timer when none waits")
	}
	if c.WaitTimer(made+1, 10*time.Millisecond) {
		t.Error("WaitTimer saw a timer nobody made")
	}
	go c.NewTimer(time.Hour)
	if !c.WaitTimer(made, 10*time.Second) {
		t.Error("WaitTimer missed a new timer")
	}
	if got := c.Now(); !got.Equal(start.Add(time.Second)) {
		t.Errorf("now %v", got)
	}
}
