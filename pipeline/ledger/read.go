package ledger

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// A sealed line is the entry's JSON with one last member, "seal": the hex
// HMAC-SHA256 of the JSON without it (the bytes as written), so that a line
// changed by hand or by a fault is found, not trusted. Lines written before
// sealing existed carry no seal and are still read, but once a sealed line
// has been written an unsealed one after it is a changed line.
const (
	sealMember = `,"seal":"`
	sealHexLen = 2 * sha256.Size
)

// sealLine returns the line of the entry JSON js, sealed with key (js as it
// is without a key).
func sealLine(key, js []byte) []byte {
	if key == nil || len(js) < 2 || js[len(js)-1] != '}' {
		return js
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(js)
	out := make([]byte, 0, len(js)+len(sealMember)+sealHexLen+2)
	out = append(out, js[:len(js)-1]...)
	out = append(out, sealMember...)
	out = hex.AppendEncode(out, mac.Sum(nil))
	return append(out, '"', '}')
}

// unseal splits a line into the JSON that was sealed and its seal ("" when
// the line carries none).
func unseal(line []byte) (js []byte, seal string) {
	n := len(sealMember) + sealHexLen + 2
	if len(line) < n+2 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return line, ""
	}
	tail := line[len(line)-n:]
	if !bytes.HasPrefix(tail, []byte(sealMember)) {
		return line, ""
	}
	hx := string(tail[len(sealMember) : len(sealMember)+sealHexLen])
	if !validHex(hx) {
		return line, ""
	}
	js = append(append([]byte{}, line[:len(line)-n]...), '}')
	return js, hx
}

// LineState is what reading one line found.
type LineState int

const (
	// LineOK: an entry, its seal checked (or sealing was not known yet).
	LineOK LineState = iota
	// LineUnsealed: an entry without a seal (written before sealing).
	LineUnsealed
	// LineUnchecked: a sealed entry read without the key.
	LineUnchecked
	// LineDamaged: not an entry (not JSON, or missing its kind, hash or
	// target).
	LineDamaged
	// LineChanged: the seal does not match the line: it was changed.
	LineChanged
)

// ParseLine reads one line (without its newline). key checks the seal (nil:
// not checked).
func ParseLine(line, key []byte) (Entry, LineState) {
	js, seal := unseal(line)
	var e Entry
	if len(js) == 0 || js[0] != '{' || json.Unmarshal(js, &e) != nil {
		return Entry{}, LineDamaged
	}
	if e.Kind == "" || e.SHA256 == "" || e.Target == "" {
		return Entry{}, LineDamaged
	}
	switch {
	case seal == "":
		return e, LineUnsealed
	case key == nil:
		return e, LineUnchecked
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(js)
	want, _ := hex.DecodeString(seal)
	if !hmac.Equal(mac.Sum(nil), want) {
		return e, LineChanged
	}
	return e, LineOK
}

// Reading is what Read found in the ledger: the entries it could read and
// trust, and the lines it skipped.
type Reading struct {
	Path    string
	Entries []Entry
	// Lines is how many complete lines the file has.
	Lines int
	// Damaged are the numbers (from 1) of lines that are not an entry;
	// Changed those whose seal does not match, or that carry no seal after
	// a sealed line. Both are skipped.
	Damaged []int
	Changed []int
	// Unsealed counts the entries read without a seal (written before
	// sealing); Unchecked those whose seal could not be checked (no key).
	Unsealed, Unchecked int
	// Suspect are the entries of changed lines as they read now (not
	// trusted; for `ledger check` to show what to look at by hand).
	Suspect []Entry
}

// Skipped is how many lines were not read.
func (r *Reading) Skipped() int { return len(r.Damaged) + len(r.Changed) }

// Problem says what was skipped, in one line for every command that reads
// the ledger, or "" when nothing was.
func (r *Reading) Problem() string {
	if r == nil || r.Skipped() == 0 {
		return ""
	}
	var parts []string
	if n := len(r.Damaged); n > 0 {
		parts = append(parts, fmt.Sprintf("%d damaged %s (%s)", n, lines(n), lineList(r.Damaged)))
	}
	if n := len(r.Changed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d changed %s whose seal does not match (%s)", n, lines(n), lineList(r.Changed)))
	}
	return fmt.Sprintf("the publication ledger %s has %s, skipped: photos named there may be missing here; run photoguard ledger check",
		r.Path, strings.Join(parts, " and "))
}

func lines(n int) string {
	if n == 1 {
		return "line"
	}
	return "lines"
}

func lineList(ns []int) string {
	var s []string
	for i, n := range ns {
		if i == 5 {
			s = append(s, fmt.Sprintf("and %d more", len(ns)-5))
			break
		}
		s = append(s, fmt.Sprint(n))
	}
	return "line " + strings.Join(s, ", ")
}

// Read reads stateDir's ledger, oldest first, skipping (and counting) the
// lines it cannot read or trust. A missing ledger is no error; a last line
// cut short by a crash is not an entry and no damage. key checks the seals
// (nil: not checked). The error is for a ledger that cannot be read at all.
func Read(stateDir string, key []byte) (*Reading, error) {
	path := filepath.Join(stateDir, Dir, FileName)
	r := &Reading{Path: path}
	data, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	readLines(r, data, key)
	return r, nil
}

// readFile reads the ledger at path, never through a link.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return data, nil
}

// readLines fills r from the ledger's bytes.
func readLines(r *Reading, data, key []byte) {
	lines := bytes.Split(data, []byte{'\n'})
	// What follows the last newline is empty, or a write a crash cut short.
	lines = lines[:len(lines)-1]
	r.Lines = len(lines)
	sealed := false
	for i, line := range lines {
		e, st := ParseLine(line, key)
		if st == LineUnsealed && sealed && key != nil {
			st = LineChanged // a seal was dropped, or a line put in
		}
		switch st {
		case LineDamaged:
			r.Damaged = append(r.Damaged, i+1)
			continue
		case LineChanged:
			r.Changed = append(r.Changed, i+1)
			r.Suspect = append(r.Suspect, e)
			sealed = true // it carried a seal, or followed one
			continue
		case LineUnsealed:
			r.Unsealed++
		case LineUnchecked:
			r.Unchecked++
			sealed = true
		case LineOK:
			sealed = true
		}
		r.Entries = append(r.Entries, e)
	}
}

// Repaired is what Repair did.
type Repaired struct {
	Kept int
	// Set is where the lines it took out were put (state_dir/ledger/
	// ledger.jsonl.damaged-DATE), "" when there were none.
	Set string
	*Reading
}

// Repair rewrites stateDir's ledger with every entry it can read and trust,
// sealed with key, and moves the lines it cannot to a file beside it
// (ledger.jsonl.damaged-<time>, 0600), which nothing reads: it is kept for
// the coordinator. It holds the ledger's lock throughout, so a running
// service waits for it.
func Repair(stateDir string, key []byte, now time.Time) (*Repaired, error) {
	dir := filepath.Join(stateDir, Dir)
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer unlock()
	path := filepath.Join(dir, FileName)
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	rd := &Reading{Path: path}
	readLines(rd, data, key)
	res := &Repaired{Reading: rd}
	lines := bytes.Split(data, []byte{'\n'})
	var keep, out bytes.Buffer
	skip := map[int]bool{}
	for _, n := range append(append([]int{}, rd.Damaged...), rd.Changed...) {
		skip[n] = true
	}
	for i, line := range lines[:len(lines)-1] {
		if skip[i+1] {
			fmt.Fprintf(&out, "%d\t%s\n", i+1, line)
			continue
		}
		e, _ := ParseLine(line, nil)
		js, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		keep.Write(sealLine(key, js))
		keep.WriteByte('\n')
		res.Kept++
	}
	if out.Len() > 0 {
		res.Set = FileName + ".damaged-" + now.UTC().Format("20060102T150405Z")
		if err := fsync.WriteFile(dir, res.Set, out.Bytes(), 0o600, func(os.FileInfo) bool { return false }, nil); err != nil {
			return nil, fmt.Errorf("ledger: keeping the damaged lines: %w", err)
		}
		res.Set = filepath.Join(dir, res.Set)
	}
	// The ledger is replaced whole (rename), never through a link.
	if err := fsync.WriteFile(dir, FileName, keep.Bytes(), 0o600, nil, nil); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return res, nil
}

// lockDir takes the ledger's lock (the one appendLine takes).
func lockDir(dir string) (func(), error) {
	lock, err := os.OpenFile(filepath.Join(dir, "ledger.lock"), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		return nil, err
	}
	return func() { lock.Close() }, nil
}
