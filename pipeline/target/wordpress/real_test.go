package wordpress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/target/internal/targettest"
	"github.com/photoguard/photoguard/redact/testenv"
)

// The real WordPress (Debian's package, a private mariadbd and php -S, see
// scripts/wordpress-server.sh) is started once per package run, by the first
// test that needs it, and stopped by TestMain.
var wp struct {
	once    sync.Once
	state   string
	url     string
	err     error
	started time.Duration
	script  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if wp.state != "" {
		out, err := exec.Command(wp.script, "stop", wp.state).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "stopping WordPress: %v\n%s", err, out)
			code = 1
		}
		if os.Getenv("PG_KEEP_WP") == "" {
			_ = os.RemoveAll(wp.state)
		}
	}
	os.Exit(code)
}

// realWordPress returns the site's address, starting it on first use. Under
// CI=true a missing package is a failure; elsewhere the test skips.
func realWordPress(t *testing.T) string {
	t.Helper()
	if testing.Short() && !testenv.CI() {
		t.Skip("-short: not starting WordPress")
	}
	var missing []string
	for _, f := range []string{"/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/share/wordpress/wp-settings.php"} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	for _, tool := range []string{"php", "curl"} {
		if !testenv.HasTool(tool) {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		if err := exec.Command("php", "-r", `exit(extension_loaded("mysqli") ? 0 : 1);`).Run(); err != nil {
			missing = append(missing, "php's mysqli extension")
		}
	}
	testenv.Require(t, len(missing) == 0, "the real WordPress needs %s (apt-get install mariadb-server wordpress php-cli php-mysql curl, or scripts/setup.sh)",
		strings.Join(missing, ", "))
	wp.once.Do(func() {
		wp.script = filepath.Join(testenv.RepoRoot(t), "scripts", "wordpress-server.sh")
		// Short: the MariaDB socket lives in it (unix socket paths are at
		// most 107 bytes).
		wp.state, wp.err = os.MkdirTemp("", "pg-wp-")
		if wp.err != nil {
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, wp.script, "start", wp.state).CombinedOutput()
		wp.started = time.Since(start)
		if err != nil {
			wp.err = fmt.Errorf("%s start %s: %v\n%s", wp.script, wp.state, err, out)
			return
		}
		env, err := readEnv(filepath.Join(wp.state, "server.env"))
		if err != nil {
			wp.err = err
			return
		}
		wp.url = env["WP_URL"]
	})
	if wp.err != nil {
		t.Fatal(wp.err)
	}
	t.Logf("WordPress at %s, started in %.1f s", wp.url, wp.started.Seconds())
	return wp.url
}

func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = strings.Trim(v, `"`)
		}
	}
	return env, sc.Err()
}

// realTarget returns a target for one of the site's users (admin, author,
// reader), with its application password from a file.
func realTarget(t *testing.T, user string) *Target {
	t.Helper()
	tg, err := New(Options{Name: "school", URL: realWordPress(t), User: user, PasswordFile: filepath.Join(wp.state, user+".apppw")})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// adminGet sends an authenticated GET as the administrator, independently of
// the target's code.
func adminGet(rawURL string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, err
	}
	pw, err := os.ReadFile(filepath.Join(wp.state, "admin.apppw"))
	if err != nil {
		return nil, nil, err
	}
	req.SetBasicAuth("admin", strings.TrimSpace(string(pw)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// titled lists every media item of the site titled name.
func titled(name string) ([]media, error) {
	var out []media
	for page := 1; ; page++ {
		resp, body, err := adminGet(fmt.Sprintf("%s/wp-json/wp/v2/media?context=edit&per_page=100&page=%d", wp.url, page))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("listing media: HTTP %d: %s", resp.StatusCode, body)
		}
		var items []media
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, err
		}
		for _, m := range items {
			if m.Title.Raw == name {
				out = append(out, m)
			}
		}
		var pages int
		_, _ = fmt.Sscan(resp.Header.Get("X-WP-TotalPages"), &pages)
		if page >= pages {
			return out, nil
		}
	}
}

// readBack returns the file of the one media item titled name, from its
// source_url (an error if there is none or more than one).
func readBack(name string) ([]byte, error) {
	items, err := titled(name)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, fmt.Errorf("%d media items titled %s, want 1", len(items), name)
	}
	resp, err := http.Get(items[0].SourceURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", items[0].SourceURL, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

// TestConformanceRealWordPress runs the suite against Debian's WordPress as
// the administrator (the site allows it unfiltered uploads: the suite's
// bytes are not real JPEGs).
func TestConformanceRealWordPress(t *testing.T) {
	tg := realTarget(t, "admin")
	start := time.Now()
	targettest.Conformance(t, tg, readBack)
	t.Logf("conformance suite against WordPress: %.1f s", time.Since(start).Seconds())
}

// realPhotos returns the shared sample photos (1920 px JPEGs).
func realPhotos(t *testing.T) [][]byte {
	var photos [][]byte
	for i := 1; i <= 6; i++ {
		b, err := os.ReadFile(testenv.SharedFile(t, fmt.Sprintf("photos/sample%d.jpg", i)))
		if err != nil {
			t.Fatal(err)
		}
		photos = append(photos, b)
	}
	return photos
}

// TestRealPhotosAsAuthor publishes real photos as a user with the Author
// role (WordPress's own file checks, sub-sizes made by GD), reads them back
// unchanged, replaces one and takes them down: afterwards neither the photo
// nor any of the sizes WordPress made of it can be fetched.
func TestRealPhotosAsAuthor(t *testing.T) {
	ctx := context.Background()
	tg := realTarget(t, "author")
	photos := realPhotos(t)
	var total time.Duration
	var bytesSent int
	refs := map[string]string{}
	for i, data := range photos {
		name := fmt.Sprintf("20261201-%012x.jpg", 0xa1b2c3d40000+i)
		start := time.Now()
		ref, err := tg.Publish(ctx, name, data)
		d := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		total += d
		bytesSent += len(data)
		refs[name] = ref
		t.Logf("published %s (%d bytes) as media %s in %d ms", name, len(data), ref, d.Milliseconds())
		got, err := readBack(name)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s read back: %d bytes, %v; want the %d bytes sent", name, len(got), err, len(data))
		}
	}
	t.Logf("time per upload of a 1920 px photo (author, with sub-sizes): %d ms on average over %d photos (%d KB on average)",
		(total / time.Duration(len(photos))).Milliseconds(), len(photos), bytesSent/len(photos)/1024)

	// Publishing again replaces: a new id, one item, the new content.
	name := fmt.Sprintf("20261201-%012x.jpg", 0xa1b2c3d40000)
	old := refs[name]
	items, err := titled(name)
	if err != nil || len(items) != 1 {
		t.Fatalf("before replace: %d items, %v", len(items), err)
	}
	oldFiles := sizeURLs(t, items[0])
	ref, err := tg.Publish(ctx, name, photos[1])
	if err != nil {
		t.Fatal(err)
	}
	if ref == old {
		t.Fatalf("replace kept the media id %s", ref)
	}
	if got, err := readBack(name); err != nil || !bytes.Equal(got, photos[1]) {
		t.Fatalf("after replace: %d bytes, %v", len(got), err)
	}
	assertGone(t, oldFiles)
	refs[name] = ref

	for name, ref := range refs {
		items, err := titled(name)
		if err != nil || len(items) != 1 {
			t.Fatalf("%s: %d items, %v", name, len(items), err)
		}
		files := sizeURLs(t, items[0])
		if err := tg.Remove(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := tg.Exists(ctx, name); ok || err != nil {
			t.Fatalf("Exists(%s) after Remove = %v, %v", name, ok, err)
		}
		assertGone(t, files)
	}
}

// sizeURLs lists the photo's address and those of every size WordPress made.
func sizeURLs(t *testing.T, m media) []string {
	var d struct {
		Sizes map[string]struct {
			SourceURL string `json:"source_url"`
		} `json:"sizes"`
	}
	_ = json.Unmarshal(m.Details, &d)
	urls := []string{m.SourceURL}
	for _, s := range d.Sizes {
		urls = append(urls, s.SourceURL)
	}
	if len(urls) < 2 {
		t.Fatalf("media %d: WordPress made no smaller sizes (%s)", m.ID, m.Details)
	}
	return urls
}

func assertGone(t *testing.T, urls []string) {
	t.Helper()
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("%s can still be fetched after the media item was removed", u)
		}
	}
}

// A photo larger than WordPress's big_image_size_threshold (2560 px) is
// stored scaled down as name-scaled.jpg; it is still found under its name.
func TestRealLargePhotoScaled(t *testing.T) {
	ctx := context.Background()
	tg := realTarget(t, "author")
	img := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
	for y := 0; y < 2000; y++ {
		for x := 0; x < 3000; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	const name = "20261201-large3000px.jpg"
	start := time.Now()
	ref, err := tg.Publish(ctx, name, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("published a 3000x2000 photo (%d KB) in %d ms", buf.Len()/1024, time.Since(start).Milliseconds())
	items, err := titled(name)
	if err != nil || len(items) != 1 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	if !strings.HasSuffix(items[0].SourceURL, "-scaled.jpg") {
		t.Fatalf("WordPress did not scale the photo down (source_url %s)", items[0].SourceURL)
	}
	m := items[0]
	m.Title.Raw = "changed by hand"
	if !m.shows(name) {
		t.Errorf("with its title changed, the item (%s, %s) is no longer recognised by its file name", m.SourceURL, m.Details)
	}
	got, ok, err := tg.Exists(ctx, name)
	if err != nil || !ok || got != ref {
		t.Fatalf("Exists = %q, %v, %v; want %s", got, ok, err, ref)
	}
	files := sizeURLs(t, items[0])
	if err := tg.Remove(ctx, ref); err != nil {
		t.Fatal(err)
	}
	assertGone(t, files)
}

// A wrong application password is a permanent error that says which
// settings to check, and does not show the password.
func TestRealWrongPassword(t *testing.T) {
	realWordPress(t)
	pwFile := filepath.Join(t.TempDir(), "apppw")
	const wrong = "AAAA BBBB CCCC DDDD EEEE FFFF"
	if err := os.WriteFile(pwFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, err := New(Options{Name: "school", URL: wp.url, User: "admin", PasswordFile: pwFile})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, pubErr := tg.Publish(ctx, "wrong.jpg", []byte("x"))
	_, _, existsErr := tg.Exists(ctx, "wrong.jpg")
	for op, err := range map[string]error{"Publish": pubErr, "Exists": existsErr} {
		if err == nil || !pipeline.IsPermanent(err) {
			t.Fatalf("%s with a wrong password = %v, want a permanent error", op, err)
		}
		msg := err.Error()
		for _, want := range []string{"HTTP 401", "targets.school.user", "targets.school.password_file (" + pwFile + ")"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", op, msg, want)
			}
		}
		if strings.Contains(msg, "AAAA") {
			t.Errorf("%s: the error shows the password: %s", op, msg)
		}
		t.Logf("%s: %v", op, err)
	}
	if items, err := titled("wrong.jpg"); err != nil || len(items) != 0 {
		t.Fatalf("after the refused upload: %d items, %v", len(items), err)
	}
}

// A subscriber may not upload: permanent, and the error says what role is
// needed. An author may not upload a file that is not an image.
func TestRealRefusals(t *testing.T) {
	ctx := context.Background()
	_, err := realTarget(t, "reader").Publish(ctx, "reader.jpg", realPhotos(t)[0])
	if err == nil || !pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "Author role") {
		t.Errorf("subscriber's upload = %v, want a permanent error naming the role", err)
	}
	t.Logf("subscriber: %v", err)
	_, err = realTarget(t, "author").Publish(ctx, "notajpeg.jpg", []byte("not a JPEG"))
	if err == nil || !pipeline.IsPermanent(err) {
		t.Errorf("author's upload of a non-image = %v, want a permanent error", err)
	}
	t.Logf("author, not an image: %v", err)
}

// Removing what is gone is no error: a deleted id, an id never used.
func TestRealRemoveDeleted(t *testing.T) {
	ctx := context.Background()
	tg := realTarget(t, "admin")
	ref, err := tg.Publish(ctx, "gone.jpg", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := tg.Remove(ctx, ref); err != nil {
			t.Fatalf("Remove #%d of %s: %v", i+1, ref, err)
		}
	}
	if err := tg.Remove(ctx, "987654321"); err != nil {
		t.Fatalf("Remove of an id never used: %v", err)
	}
	// A page is no media item: not touched, not an error.
	resp, body, err := adminGet(wp.url + "/wp-json/wp/v2/pages?context=edit&_fields=id")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("listing pages: %v", err)
	}
	var pages []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &pages); err != nil || len(pages) == 0 {
		t.Fatalf("no page to try (%v): %s", err, body)
	}
	id := fmt.Sprint(pages[0].ID)
	if err := tg.Remove(ctx, id); err != nil {
		t.Fatalf("Remove of page %s: %v", id, err)
	}
	if resp, _, err := adminGet(wp.url + "/wp-json/wp/v2/pages/" + url.PathEscape(id) + "?context=edit"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("page %s after Remove: %v, %v", id, resp.Status, err)
	}
}
