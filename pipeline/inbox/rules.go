package inbox

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NoteSuffix ends the name of a note photoguard leaves for a teacher where a
// photo that was not published was; such a file is never taken as a photo.
// (pipeline.NoteSuffix is the same string; a test keeps them equal.)
const NoteSuffix = " - niet gepubliceerd.txt"

// Ignored reports whether a file name is one photoguard never touches:
// hidden files, the working files of sync clients, browsers and office
// programs, photoguard's own notes, and the edit files (.AAE) an iPhone or
// iPad sends beside a photo that was edited on it. They are left where they
// are and not counted as waiting.
func Ignored(name string) bool { return Skipped(name) != "" }

// Skipped says why photoguard never touches a file of this name (see
// Ignored), or "" for a name it takes.
func Skipped(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(name, NoteSuffix):
		return "a note photoguard left for the teacher"
	case strings.HasSuffix(lower, ".aae"):
		return "an edit file an iPhone or iPad sends beside an edited photo (.AAE), not a photo"
	case strings.HasPrefix(name, "."), // hidden, .syncthing.*.tmp, .~lock*, .DS_Store
		strings.HasPrefix(name, "~$"),
		strings.HasPrefix(name, "~syncthing~"),
		strings.HasPrefix(name, "._"):
		return "a hidden or temporary file"
	}
	for _, suf := range []string{".partial", ".crdownload", ".tmp", ".temp", ".part", ".download", ".!sync", ".icloud"} {
		if strings.HasSuffix(lower, suf) {
			return "a file a sync client or browser is still writing"
		}
	}
	switch lower {
	case "thumbs.db", "desktop.ini", "icon\r":
		return "a file the operating system keeps for itself"
	}
	return ""
}

// SkipDir reports whether a folder is never entered: hidden folders (sync
// clients' caches and version folders, trash) and the folders NAS systems
// and operating systems keep for themselves.
func SkipDir(name string) bool {
	if strings.HasPrefix(name, ".") { // .dropbox.cache, .stversions, .Trash-1000
		return true
	}
	switch strings.ToLower(name) {
	case "@eadir", "#recycle", "$recycle.bin", "system volume information", "lost+found":
		return true
	}
	return false
}

// IsVideo reports whether a file name is a video's: the moving part of a Live
// Photo (IMG_0001.MOV beside IMG_0001.HEIC) or a film from a tablet, camera
// or phone.
func IsVideo(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".mov", ".mp4", ".m4v", ".3gp", ".3g2", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".wmv", ".mpg", ".mpeg", ".hevc":
		return true
	}
	return false
}

// HasStill reports whether a video has a photo of the same name beside it
// (IMG_0001.MOV and IMG_0001.HEIC), as an iPhone or iPad delivers a Live
// Photo.
func HasStill(path string) bool {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return false
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	for _, e := range entries {
		n := e.Name()
		ext := strings.ToLower(filepath.Ext(n))
		if strings.EqualFold(strings.TrimSuffix(n, filepath.Ext(n)), stem) && (ext == ".heic" || ext == ".heif" || ext == ".jpg" || ext == ".jpeg") {
			return true
		}
	}
	return false
}

// looksLikePhoto reports whether a name has a photo's extension (a folder
// named so is not taken for a folder of photos).
func looksLikePhoto(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".heic", ".heif":
		return true
	}
	return false
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "type " + m.Type().String()
}
