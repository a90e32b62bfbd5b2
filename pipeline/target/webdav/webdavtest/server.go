// Package webdavtest is an in-process WebDAV server for tests
// (golang.org/x/net/webdav over a temporary folder, on 127.0.0.1), with
// basic authentication and faults that a test switches on: the connection
// cut mid-upload, the server dying mid-upload, a fixed answer to a method,
// uploads that land late.
//
// Invariant: it serves only the folder it is given, only on the loopback
// address, and only until the test ends.
package webdavtest

import (
	"crypto/subtle"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/webdav"
)

// User and Password are what the server accepts.
const (
	User     = "school"
	Password = "s3cret-Pa55word"
)

// Server is a WebDAV server over Dir.
type Server struct {
	Dir string
	URL string // with a trailing "/"
	srv *httptest.Server
	dav *webdav.Handler

	cutPut, diePut, dead atomic.Bool
	mu                   sync.Mutex
	failMethod           string
	failStatus           int
	putDelay             time.Duration
	late                 int        // delayed uploads not landed yet
	landed               *sync.Cond // on mu, when late falls
}

// New starts a server over dir; it stops when the test ends.
func New(t testing.TB, dir string) *Server {
	t.Helper()
	s := &Server{Dir: dir, dav: &webdav.Handler{FileSystem: webdav.Dir(dir), LockSystem: webdav.NewMemLS()}}
	s.landed = sync.NewCond(&s.mu)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL + "/"
	t.Cleanup(s.srv.Close)
	return s
}

// CutUploads, while on, makes every PUT read part of the photo, write that
// part to the file (as a server streaming to disk does) and cut the
// connection without an answer.
func (s *Server) CutUploads(on bool) { s.cutPut.Store(on) }

// DieOnUpload makes the next PUT behave as in CutUploads, after which the
// server answers nothing more (every connection is dropped), as when it
// has died. Revive undoes it.
func (s *Server) DieOnUpload() { s.diePut.Store(true) }

// Revive brings a server that died back.
func (s *Server) Revive() { s.diePut.Store(false); s.dead.Store(false) }

// Fail makes every request of method answer status (method "" stops it).
func (s *Server) Fail(method string, status int) {
	s.mu.Lock()
	s.failMethod, s.failStatus = method, status
	s.mu.Unlock()
}

// DelayUploads makes every PUT wait d before the server takes it (d 0
// stops it), as a slow share does: a client that gives up first sees no
// answer, and the upload still lands when the wait is over, whatever the
// client did meanwhile. WaitLate waits for such late uploads.
func (s *Server) DelayUploads(d time.Duration) {
	s.mu.Lock()
	s.putDelay = d
	s.mu.Unlock()
}

// WaitLate waits until every delayed upload taken so far has landed.
func (s *Server) WaitLate() {
	s.mu.Lock()
	for s.late > 0 {
		s.landed.Wait()
	}
	s.mu.Unlock()
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(User)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(Password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if s.dead.Load() {
		drop(w)
		return
	}
	s.mu.Lock()
	method, status := s.failMethod, s.failStatus
	s.mu.Unlock()
	if method != "" && r.Method == method {
		w.WriteHeader(status)
		return
	}
	s.mu.Lock()
	delay := s.putDelay
	s.mu.Unlock()
	if r.Method == http.MethodPut && delay > 0 {
		// The body is read now; the file is written after the delay,
		// even when the client has gone (as a server that finishes a
		// request it has started does).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.late++
		s.mu.Unlock()
		time.Sleep(delay)
		_ = os.WriteFile(filepath.Join(s.Dir, filepath.FromSlash(r.URL.Path)), body, 0o644)
		s.mu.Lock()
		s.late--
		s.landed.Broadcast()
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		return
	}
	if r.Method == http.MethodPut && (s.cutPut.Load() || s.diePut.Load()) {
		part := make([]byte, 1000)
		n, _ := io.ReadFull(r.Body, part)
		_ = os.WriteFile(filepath.Join(s.Dir, filepath.FromSlash(r.URL.Path)), part[:n], 0o644)
		if s.diePut.Load() {
			s.dead.Store(true)
		}
		drop(w)
		return
	}
	s.dav.ServeHTTP(w, r)
}

// drop cuts the connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}
