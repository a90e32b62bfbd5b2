package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
)

// A private file is one that shows children's faces unredacted, written on
// the coordinator's request: explain --out (an annotated PNG), review --out
// and tune --out (HTML pages). One rule decides where such a file may go,
// for all three: never into the inbox (the service would publish it), never
// into a folder target, never through a link, and never over an existing
// file that photoguard did not write (it carries photoguard's mark).
type privateKind int

const (
	privatePNG privateKind = iota
	privateHTML
)

// pageMark is the mark of a page photoguard wrote (the review and tune
// pages carry it in their head).
var pageMark = []byte(`<meta name="generator" content="photoguard">`)

// pngMark is the tEXt chunk photoguard puts right after a PNG's header.
var pngMark = pngChunk("tEXt", []byte("Software\x00photoguard"))

// checkPrivateOut refuses a path a private file may not be written to. It
// is called before any work is done and again just before writing.
func checkPrivateOut(cfg *config.Config, out string, kind privateKind) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	dir := filepath.Dir(abs)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: the folder %s does not exist", shown(out), shown(dir))
	}
	// config.Within resolves links in both paths: a link to the inbox is
	// the inbox.
	for _, name := range cfg.TargetNames() {
		if p, local := localFolder(cfg, name); local && config.Within(dir, p) {
			return fmt.Errorf("%s is inside target %s (%s): a file with unredacted faces is never written where photos are published", shown(out), name, shown(p))
		}
	}
	if cfg.Inbox != "" && config.Within(dir, cfg.Inbox) {
		return fmt.Errorf("%s is inside the inbox (%s): the service would publish it; write it elsewhere", shown(out), shown(cfg.Inbox))
	}
	st, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0 || !st.Mode().IsRegular():
		return fmt.Errorf("%s is a link or not a regular file; photoguard does not write through it (remove it or choose another name)", shown(out))
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink != 1 {
		return fmt.Errorf("%s has other names (a hard link); photoguard does not write through it (remove it or choose another name)", shown(out))
	}
	// In the state folder (review's default place) every file is
	// photoguard's own; elsewhere a file must carry its mark.
	if !config.Within(dir, cfg.StateDir) && !markedByPhotoguard(abs, kind) {
		return fmt.Errorf("%s exists and was not written by photoguard: it is not replaced (remove it or choose another name)", shown(out))
	}
	return nil
}

// writePrivate writes a private file after checking out again; a PNG gets
// photoguard's mark, so that a later run may replace it.
func writePrivate(cfg *config.Config, out string, data []byte, kind privateKind) error {
	if err := checkPrivateOut(cfg, out, kind); err != nil {
		return err
	}
	if kind == privatePNG {
		data = markPNG(data)
	}
	return pipeline.WriteFile(out, data, 0o600)
}

// markedByPhotoguard reports whether the file at path carries the mark of
// kind in its first bytes. It opens without following a link.
func markedByPhotoguard(path string, kind privateKind) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if kind == privatePNG {
		return len(head) >= 33+len(pngMark) && bytes.Equal(head[33:33+len(pngMark)], pngMark)
	}
	return bytes.Contains(head, pageMark)
}

// markPNG puts pngMark after the IHDR chunk of an encoded PNG (signature 8
// bytes, IHDR 25).
func markPNG(data []byte) []byte {
	if len(data) < 33 {
		return data
	}
	out := make([]byte, 0, len(data)+len(pngMark))
	out = append(out, data[:33]...)
	out = append(out, pngMark...)
	return append(out, data[33:]...)
}

func pngChunk(typ string, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	out = append(out, typ...)
	out = append(out, body...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[4:]))
}
