package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/review"
	"github.com/photoguard/photoguard/redact/testenv"
)

// browserFetches records every connection a headless Chromium makes through
// the proxy the test points it at: with --proxy-bypass-list=<-loopback>
// even 127.0.0.1 goes through it, and file:// pages do not, so any request
// is a fetch the browser made. Chromium's own background services (its
// component updater, sign-in and time checks on *.google.com,
// *.googleapis.com, *.gvt1.com, which Debian's build contacts whatever the
// flags) are set apart by host; the pages' own references are checked in
// their DOM as well (no http: or https: in any src, href or url()).
type browserFetches struct {
	ln   net.Listener
	mu   sync.Mutex
	reqs []string // "host: request line"
}

func newBrowserFetches(t *testing.T) *browserFetches {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bf := &browserFetches{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				bf.mu.Lock()
				bf.reqs = append(bf.reqs, strings.TrimSpace(line))
				bf.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return bf
}

// browserOwn reports whether a proxied request line goes to one of
// Chromium's own background services.
func browserOwn(line string) bool {
	f := strings.Fields(line)
	if len(f) < 2 {
		return false
	}
	host := f[1]
	host = strings.TrimPrefix(strings.TrimPrefix(host, "http://"), "https://")
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	for _, s := range []string{".google.com", ".googleapis.com", ".gvt1.com"} {
		if strings.HasSuffix("."+host, s) {
			return true
		}
	}
	return false
}

// pageFetches are the recorded requests that were not Chromium's own.
func (bf *browserFetches) pageFetches() []string {
	bf.mu.Lock()
	defer bf.mu.Unlock()
	var out []string
	for _, r := range bf.reqs {
		if !browserOwn(r) {
			out = append(out, r)
		}
	}
	return out
}

// chromium finds Debian's chromium; under CI=true a missing one fails.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Require(t, false, "chromium is not installed (apt-get install chromium)")
	return ""
}

// renderInChromium loads page (a local file) in headless Chromium through
// the recording proxy and returns the DOM after the page's scripts ran;
// with screenshot set it also saves a PNG of the page there.
func renderInChromium(t *testing.T, page, screenshot string) (dom string, fetches []string) {
	t.Helper()
	bin := chromium(t)
	bf := newBrowserFetches(t)
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) string {
		args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir(),
			"--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--disable-extensions", "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
			"--proxy-server=" + bf.ln.Addr().String(), "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=3000"}
		args = append(args, extra...)
		args = append(args, "file://"+abs)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = t.TempDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
		}
		return string(out)
	}
	dom = run("--dump-dom")
	if screenshot != "" {
		if err := os.MkdirAll(filepath.Dir(screenshot), 0o755); err != nil {
			t.Fatal(err)
		}
		run("--window-size=1400,1800", "--hide-scrollbars", "--screenshot="+screenshot)
		if st, err := os.Stat(screenshot); err != nil || st.Size() < 10000 {
			t.Fatalf("screenshot %s: %v", screenshot, err)
		}
	}
	// Requests may still be arriving as the browser exits.
	time.Sleep(200 * time.Millisecond)
	return dom, bf.pageFetches()
}

var externalRef = regexp.MustCompile(`(?i)(src|href|srcset|action|poster|data)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//`)

// checkOffline fails when the page fetched anything or refers to anything
// outside itself.
func checkOffline(t *testing.T, what, dom string, fetches []string) {
	t.Helper()
	if len(fetches) > 0 {
		t.Errorf("%s fetched from the network: %q", what, fetches)
	}
	if m := externalRef.FindString(dom); m != "" {
		t.Errorf("%s refers to something outside itself: %q", what, m)
	}
}

// screenshotPath is where a test saves a screenshot for the README: in
// $SCREENSHOT_DIR when set, else in the test's temporary folder.
func screenshotPath(t *testing.T, name string) string {
	if d := os.Getenv("SCREENSHOT_DIR"); d != "" {
		return filepath.Join(d, name)
	}
	return filepath.Join(t.TempDir(), name)
}

// The method catches a fetch: a page with an external image and no
// Content-Security-Policy is seen fetching it; the same page under the
// review page's policy fetches nothing.
func TestChromiumSeesFetches(t *testing.T) {
	dir := t.TempDir()
	const img = `<img src="http://photoguard-test.invalid/pixel.png">`
	open := filepath.Join(dir, "open.html")
	if err := os.WriteFile(open, []byte("<!DOCTYPE html><html><body><p>x</p>"+img+"</body></html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	dom, fetches := renderInChromium(t, open, "")
	found := false
	for _, f := range fetches {
		found = found || strings.Contains(f, "photoguard-test.invalid")
	}
	if !found {
		t.Fatalf("an external image was not seen being fetched (requests: %q): the check cannot fail", fetches)
	}
	if externalRef.FindString(dom) == "" {
		t.Error("the DOM check does not see an external src")
	}

	closed := filepath.Join(dir, "closed.html")
	page := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="` + review.CSP + `"></head><body>` + img + `</body></html>`
	if err := os.WriteFile(closed, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, fetches := renderInChromium(t, closed, ""); len(fetches) != 0 {
		t.Errorf("under the review page's Content-Security-Policy the image was still fetched: %q", fetches)
	}
}
