package state

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// One daemon per state folder: a second lock is refused and names the
// holder's pid; RunPID tells who holds it, and nobody once it is released.
func TestRunLock(t *testing.T) {
	state := t.TempDir()
	if pid := RunPID(state); pid != 0 {
		t.Fatalf("RunPID before any lock = %d", pid)
	}
	unlock, err := LockRun(state)
	if err != nil {
		t.Fatal(err)
	}
	if pid := RunPID(state); pid != os.Getpid() {
		t.Errorf("RunPID while locked = %d, want %d", pid, os.Getpid())
	}
	if _, err := LockRun(state); err == nil || !strings.Contains(err.Error(), "another photoguard run") ||
		!strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("a second lock: %v", err)
	}
	unlock()
	if pid := RunPID(state); pid != 0 {
		t.Errorf("RunPID after unlock = %d", pid)
	}
	unlock, err = LockRun(state)
	if err != nil {
		t.Fatalf("locking again after unlock: %v", err)
	}
	unlock()
}

// A link planted as the lock file is not followed.
func TestRunLockNeverFollowsALink(t *testing.T) {
	state := t.TempDir()
	victim := state + "/victim"
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, state+"/run.lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := LockRun(state); err == nil {
		t.Error("locked through a link")
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep" {
		t.Errorf("the link's target was written: %q", data)
	}
}
