package inbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// Kind is what an entry is to the Processor.
type Kind int

const (
	// Photo: a regular file, to be read and decoded as a photo.
	Photo Kind = iota
	// Video: a video file (IsVideo), for the video path (pipeline/video.go).
	Video
	// Special: not a regular file (a link, a folder named like a photo, a
	// pipe, a device); never read. Entry.Why says what it is.
	Special
)

func (k Kind) String() string {
	switch k {
	case Photo:
		return "photo"
	case Video:
		return "video"
	case Special:
		return "special"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Entry is one thing found in the inbox for the Processor.
type Entry struct {
	// Root is the folder Rel is relative to, Path the entry's path and Rel
	// its slash-separated path below Root (what reports show, and what
	// category rules read).
	Root, Path, Rel string
	// Info is the entry as it was found (not following a link).
	Info fs.FileInfo
	Kind Kind
	// Why says what a Special entry is ("a symbolic link (photoguard does
	// not follow links)").
	Why string
	// LivePhoto is set for a Video that had a photo of the same name
	// beside it when it was found (the moving part of a Live Photo): the
	// photo may be taken, and gone, before the video.
	LivePhoto bool
}

// Root is one place entries are taken from: a folder that is walked, or a
// single file.
type Root struct {
	// Dir is a folder to walk; File, when set instead, one file to take.
	Dir, File string
	// Base is the folder the entries' Rel is relative to; empty: Dir (for
	// a file: the folder it is in). It must be Dir or File's folder, or a
	// folder above them.
	Base string
}

func (r Root) base() string {
	switch {
	case r.Base != "":
		return r.Base
	case r.File != "":
		return filepath.Dir(r.File)
	}
	return r.Dir
}

// WalkOptions say how a walk treats what it meets.
type WalkOptions struct {
	// Own are folders never entered: photoguard's state folder, should it
	// lie inside the inbox.
	Own []string
	// CleanTemps removes, where the walk meets them, the temporary files
	// of photoguard's notes that a crash left (older than a minute). The
	// loops set it; `status` does not, and so writes nothing.
	CleanTemps bool
	// OnError is told of an entry below the root that cannot be read; the
	// walk goes on without it.
	OnError func(path string, err error)
}

// Walk lists the entries of r that the skip rules let through: for a
// folder, every file below it except those Ignored and the folders SkipDir
// names or Own holds, and as Special entries without going into them, links
// and folders named like a photo; for a file, that file (none when it is
// gone or Ignored). The root folder itself must be a folder, not a link to
// one: links are never followed.
func Walk(r Root, opt WalkOptions) ([]Entry, error) {
	if r.File != "" {
		return walkFile(r)
	}
	st, err := os.Lstat(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", r.Dir, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("folder %s is a symbolic link; photoguard does not follow links (use the folder it points to)", r.Dir)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", r.Dir)
	}
	own := map[string]bool{}
	for _, o := range opt.Own {
		if o != "" {
			own[filepath.Clean(o)] = true
		}
	}
	base := r.base()
	var out []Entry
	err = filepath.WalkDir(r.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == r.Dir {
				return err
			}
			if opt.OnError != nil {
				opt.OnError(path, err)
			}
			return nil
		}
		if path == r.Dir {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if SkipDir(name) || own[filepath.Clean(path)] {
				return filepath.SkipDir
			}
			if looksLikePhoto(name) {
				info, _ := d.Info()
				out = append(out, entry(base, path, info, Special, "a folder named like a photo"))
				return filepath.SkipDir
			}
			return nil
		}
		if Ignored(name) {
			if opt.CleanTemps && strings.HasPrefix(name, fsync.TempPrefix) {
				// A note that a crash interrupted; one being written now
				// is younger than a minute.
				fsync.RemoveTemps(filepath.Dir(path), time.Minute)
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // gone since the listing
		}
		out = append(out, classify(base, path, info))
		return nil
	})
	return out, err
}

// walkFile is Walk of a single file.
func walkFile(r Root) ([]Entry, error) {
	if Ignored(filepath.Base(r.File)) {
		return nil, nil
	}
	info, err := os.Lstat(r.File)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // done with, or taken away
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", r.File, err)
	}
	if info.IsDir() {
		return []Entry{entry(r.base(), r.File, info, Special, "a folder, given as a file")}, nil
	}
	return []Entry{classify(r.base(), r.File, info)}, nil
}

// classify makes the entry of a file that is not a folder.
func classify(base, path string, info fs.FileInfo) Entry {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return entry(base, path, info, Special, "a symbolic link (photoguard does not follow links)")
	case !info.Mode().IsRegular():
		return entry(base, path, info, Special, "not a regular file ("+fileType(info.Mode())+")")
	case IsVideo(info.Name()):
		e := entry(base, path, info, Video, "")
		e.LivePhoto = HasStill(path)
		return e
	}
	return entry(base, path, info, Photo, "")
}

func entry(base, path string, info fs.FileInfo, k Kind, why string) Entry {
	rel, err := filepath.Rel(base, path)
	if err != nil {
		rel = path
	}
	return Entry{Root: base, Path: path, Rel: filepath.ToSlash(rel), Info: info, Kind: k, Why: why}
}
