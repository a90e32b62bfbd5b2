package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/journal"
)

// moveAside moves the input to state_dir/{rejected,quarantine,held}/ with a
// reason file, recording the intent in the journal first so that a crash
// halfway is finished on restart. It returns the folder the input went to,
// or "" when inputs are kept in place.
func (p *Pipeline) moveAside(j *Job, out Outcome, why error) (string, error) {
	rec := j.Record
	reason := ReasonOf(why)
	if !p.opt.Wipe {
		if rec != nil {
			rec.State, rec.Outcome, rec.Reason, rec.Kept = journal.Done, string(out), reason, true
			if err := p.opt.Journal.Put(rec); err != nil {
				return "", err
			}
		}
		p.logOutcome(j, out, why)
		return "", nil
	}
	dest := asideDir(p.opt.StateDir, out, p.opt.Now(), j.SHA256, j.Path)
	if rec != nil {
		rec.State, rec.Outcome, rec.Reason, rec.Aside = journal.MovingAside, string(out), reason, dest
		if err := p.opt.Journal.Put(rec); err != nil {
			return "", err
		}
		p.hook("journal-moving", j)
	}
	text := reasonText(j.Rel, j.SHA256, out, reason, p.opt.Now().Format("2006-01-02 15:04:05"))
	if err := moveWithReason(j.Path, dest, text); err != nil {
		return "", err
	}
	p.hook("moved", j)
	if p.opt.TeacherNotes && !j.noNote {
		if err := writeTeacherNote(j.Path, out, j.Category, reason); err != nil {
			p.opt.Log.Warn("could not leave a note for the teacher", "photo", short(j.SHA256), "err", scrub(err))
		}
	}
	if rec != nil {
		rec.State = journal.Done
		if err := p.opt.Journal.Put(rec); err != nil {
			p.opt.Log.Error("journal: recording the outcome failed", "photo", short(j.SHA256), "err", err)
		}
	}
	p.logOutcome(j, out, why)
	return dest, nil
}

func (p *Pipeline) logOutcome(j *Job, out Outcome, why error) {
	// The reason names no file; the input's path (which may hold a child's
	// name) is only at debug level.
	p.opt.Log.Info("not published", "photo", j.tag(), "outcome", string(out), "reason", scrub(why))
	p.opt.Log.Debug("not published", "photo", j.tag(), "input", j.Rel)
}

// asideDir names the folder an input is moved to: the outcome's folder, the
// date and the short hash (or a random tag for an input that was never
// hashed, such as a file over the size limit).
func asideDir(stateDir string, out Outcome, now interface{ Format(string) string }, sha, input string) string {
	tag := short(sha)
	if tag == "unhashed" {
		tag = "unhashed-" + identity(input)
	}
	return filepath.Join(stateDir, asideFolder(out), now.Format("20060102")+"-"+tag)
}

// identity names an input that was never hashed (a link, a folder, a file
// over the size limit) by its path, device, inode and modification time, so
// that moving it aside again after a crash reuses the same folder.
func identity(path string) string {
	h := sha256.New()
	h.Write([]byte(path))
	if st, err := os.Lstat(path); err == nil {
		fmt.Fprint(h, st.ModTime().UnixNano(), st.Size())
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			fmt.Fprint(h, sys.Dev, sys.Ino)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

func reasonText(rel, sha string, out Outcome, reason, when string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "photo:   %s\n", rel)
	fmt.Fprintf(&b, "outcome: %s\n", out)
	fmt.Fprintf(&b, "reason:  %s\n", reason)
	fmt.Fprintf(&b, "when:    %s\n", when)
	if sha != "" {
		fmt.Fprintf(&b, "sha256:  %s\n", sha)
	}
	if reason == ReasonIndividual {
		b.WriteString("\nThis photo shows one pupil recognisable on their own: it went only to the targets that may show\n" +
			"such photos (individual: closed_only keeps it from the others). Delete it when you no longer need it.\n")
		return b.String()
	}
	b.WriteString("\n" + advice(out) + "\n")
	return b.String()
}

// NoteSuffix ends the name of a note left for a teacher; the scanner never
// takes such a file as a photo.
const NoteSuffix = " - niet gepubliceerd.txt"

// noteMarker is the first line of every teacher note: photoguard replaces a
// note only when it is a plain file (one link) that starts with it.
const noteMarker = "photoguard: niet gepubliceerd (not published)"

// writeTeacherNote leaves, where the photo was, a short note in Dutch (and
// English) saying why it was not published. The reason is fixed per outcome
// (and the category from the configuration): never a path, a pupil id or
// anyone's consent, which the reason file in state_dir has for the ICT
// coordinator.
//
// The note is written like the dir target writes photos (fsync.WriteFile):
// a planted link with the note's name is replaced, never followed, and a
// file photoguard did not write is left alone. It is readable by the group
// of its folder when the folder is (a sync client running as another user
// of that group can then read and delete it), never writable by the group,
// never readable by others.
func writeTeacherNote(input string, out Outcome, category, reason string) error {
	var nl, en string
	switch {
	case out == Rejected && reason == ReasonIndividual:
		nl = "Op deze foto is één leerling alleen herkenbaar in beeld. Zulke foto's gaan alleen naar het ouderportaal " +
			"(als de ouders daar toestemming voor gaven), niet naar de website of sociale media."
		en = ReasonIndividual
	case out == Rejected:
		nl = "Deze foto wordt nooit gepubliceerd: hij staat in een categorie die de school uitsluit (" + category + ")."
		en = "in a category that is never published (" + category + ")"
	case out == Quarantined:
		nl = "Dit bestand is geen foto die photoguard veilig kan lezen (beschadigd, onvolledig of een ander soort bestand)."
		en = "not a photo photoguard can read safely"
	default:
		// A held photo may be safe and refused by a target, or out of time:
		// the note does not say it could not be made safe.
		nl = "Deze foto is (nog) niet gepubliceerd. De ICT-coördinator kijkt ernaar."
		en = "it was not published yet; the ICT coordinator will look at it"
	}
	text := fmt.Sprintf("%s\n\n%s\n%s\n\nNot published (%s): %s.\n\nDe foto is van deze map verwijderd en bewaard bij de ICT-coördinator.\n"+
		"Je mag dit bericht weggooien.\n", noteMarker, filepath.Base(input), nl, out, en)
	if inbox.IsVideo(input) {
		text = strings.NewReplacer("foto", "video", "a photo ", "a video ").Replace(text)
	}
	dir := filepath.Dir(input)
	perm, chown := notePerm(dir)
	name := filepath.Base(input) + NoteSuffix
	return fsync.WriteFile(dir, name, []byte(text), perm, ownNote(filepath.Join(dir, name)), chown)
}

// ownNote reports whether the entry in the way at path is a note photoguard
// wrote: a plain file with one link that starts with noteMarker.
func ownNote(path string) func(fs.FileInfo) bool {
	return func(st fs.FileInfo) bool {
		if sys, ok := st.Sys().(*syscall.Stat_t); !ok || !st.Mode().IsRegular() || sys.Nlink != 1 {
			return false
		}
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != nil {
			return false
		}
		defer f.Close()
		buf := make([]byte, len(noteMarker))
		_, err = io.ReadFull(f, buf)
		return err == nil && string(buf) == noteMarker
	}
}

// notePerm is the mode of a note in folder dir and how to give it the
// folder's group: 0640 when the folder's group may read the folder, else
// 0600. When the note cannot get the folder's group, it stays 0600.
func notePerm(dir string) (fs.FileMode, func(*os.File) error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil || st.Mode&0o040 == 0 {
		return 0o600, nil
	}
	return 0o640, func(f *os.File) error {
		if int(st.Gid) == os.Getegid() {
			return nil
		}
		if err := f.Chown(-1, int(st.Gid)); err != nil {
			return f.Chmod(0o600)
		}
		return nil
	}
}

func advice(out Outcome) string {
	switch out {
	case Rejected:
		return "This photo is in a category that is never published. Delete it when you no longer need it."
	case Quarantined:
		return "This file is not a photo photoguard can read safely. Check it, and if it is a photo, export it\n" +
			"again as JPEG or HEIC and put it back in the inbox."
	}
	// The reason says why (a face check, a target that refused the photo, a
	// time limit); the advice does not guess.
	return "This photo was not published; the reason above says why. `photoguard explain` on this file\n" +
		"shows the faces and decisions. Once the cause is gone, `photoguard retry HASH` (the short hash\n" +
		"in this folder's name) puts it through again with the current consent store and configuration."
}

// moveWithReason moves src into the folder dest (created 0700) next to a
// reason.txt. src may be a file, a link or a folder. It is safe to repeat
// after a crash.
func moveWithReason(src, dest, reason string) error {
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return err
	}
	// Only the owner of the photo's claim moves it: what a crash left of an
	// earlier reason file can go.
	fsync.RemoveTemps(dest, 0)
	if err := fsync.WriteFile(dest, "reason.txt", []byte(reason), 0o600, nil, nil); err != nil {
		return err
	}
	target := filepath.Join(dest, filepath.Base(src))
	if _, err := os.Lstat(src); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Lstat(target); err == nil {
			return nil // moved before a crash
		}
		return errInputGone
	}
	err := os.Rename(src, target)
	if errors.Is(err, syscall.EXDEV) {
		err = copyThenRemove(src, target)
	}
	if err != nil {
		return err
	}
	if err := syncDir(dest); err != nil {
		return err
	}
	return syncDir(filepath.Dir(src))
}

// errInputGone: neither the input nor its moved copy is there (someone
// removed it by hand).
var errInputGone = errors.New("the input is gone")

// copyThenRemove moves src to dst across file systems: a file is copied and
// fsynced, a link recreated, a folder copied whole; then src is removed.
func copyThenRemove(src, dst string) error {
	if err := copyAny(src, dst); err != nil {
		_ = os.RemoveAll(dst)
		return err
	}
	return os.RemoveAll(src)
}

func copyAny(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	case st.IsDir():
		if err := os.Mkdir(dst, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := copyAny(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
		return syncDir(dst)
	case !st.Mode().IsRegular():
		return fmt.Errorf("cannot move %s across file systems", st.Mode().Type())
	}
	return copyFile(src, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// WriteFile writes path whole or not at all, with mode perm, and never
// through a link: the data goes to a temporary file in the same folder that
// then takes the name (fsync.WriteFile). An existing regular file with one
// name is replaced; a link (symbolic or hard), a folder or a device with
// that name is refused, and what it points to is never written. It is how
// the commands write the files a coordinator names (explain --out,
// batch --report).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	err := fsync.WriteFile(filepath.Dir(path), filepath.Base(path), data, perm, func(st fs.FileInfo) bool {
		sys, ok := st.Sys().(*syscall.Stat_t)
		return ok && st.Mode().IsRegular() && sys.Nlink == 1
	}, nil)
	if errors.Is(err, fsync.ErrInTheWay) {
		return fmt.Errorf("%s is a link or not a regular file; photoguard does not write through it (remove it or choose another name)", path)
	}
	return err
}
