package inbox

import "time"

// Clock is the time the daemon and a batch go by: when a file has settled,
// when a retry is due, when to scan again. The default is the real clock;
// tests give one they move by hand (inboxtest.Clock), so that they wait for
// no settle or rescan time.
type Clock interface {
	Now() time.Time
	// NewTimer is time.NewTimer on this clock: c receives the time once d
	// has passed, unless stop (time.Timer's Stop) was called first.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// RealClock is the computer's clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer is time.NewTimer.
func (RealClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// sleep waits d on clock c; it returns false, at once, when done is closed
// first.
func sleep(c Clock, done <-chan struct{}, d time.Duration) bool {
	fire, stop := c.NewTimer(d)
	select {
	case <-done:
		stop()
		return false
	case <-fire:
		return true
	}
}
