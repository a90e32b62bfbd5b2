package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// runLock is the file in state_dir that the daemon holds locked.
const runLock = "run.lock"

// LockRun makes sure only one daemon works on the state folder stateDir: it
// holds an exclusive flock on stateDir/run.lock until unlock is called or
// the process dies. The file names the holder's pid, for RunPID.
func LockRun(stateDir string) (unlock func(), err error) {
	p := filepath.Join(stateDir, runLock)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(p)
		f.Close()
		return nil, fmt.Errorf("another photoguard run (pid %s) is using %s", strings.TrimSpace(string(pid)), stateDir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}

// RunPID returns the pid of the daemon that holds stateDir's run lock, -1
// when one holds it but its pid cannot be read, and 0 when none does.
func RunPID(stateDir string) int {
	p := filepath.Join(stateDir, runLock)
	f, err := os.OpenFile(p, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0
	}
	data, _ := os.ReadFile(p)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid == 0 {
		pid = -1
	}
	return pid
}
