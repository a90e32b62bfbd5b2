package wordpress

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeWP is an in-memory stand-in for the parts of WordPress's media REST API
// the target uses, with WordPress's habits: a second upload of a.jpg is
// stored as a-1.jpg, media_details is [] when empty, search looks in titles
// and file names, lists are paged with X-WP-TotalPages, a deleted id is
// 404 rest_post_invalid_id, a wrong password is 401. The unit tests run
// everywhere; the real WordPress tests check the same against Debian's.
type fakeWP struct {
	t        *testing.T
	srv      *httptest.Server
	user, pw string
	plain    bool // only ?rest_route= works (plain permalinks)

	mu     sync.Mutex
	nextID int64
	items  map[int64]*fakeItem
	files  map[string]bool
	// fail, when set, answers a request instead of the fake (fault cases).
	fail func(w http.ResponseWriter, r *http.Request) bool
	// deletes counts DELETE requests.
	deletes int
}

type fakeItem struct {
	id    int64
	title string
	file  string
	data  []byte
}

func newFakeWP(t *testing.T) *fakeWP {
	f := &fakeWP{t: t, user: "editor", pw: "abcd EFGH ijkl MNOP qrst UVWX", nextID: 10,
		items: map[int64]*fakeItem{}, files: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// add puts an item there as if uploaded by other means.
func (f *fakeWP) add(title, file string, data []byte) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.store(title, file, data)
}

func (f *fakeWP) store(title, file string, data []byte) int64 {
	stem, ext := strings.TrimSuffix(file, path.Ext(file)), path.Ext(file)
	for i := 1; f.files[file]; i++ {
		file = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	f.files[file] = true
	if title == "" {
		title = strings.TrimSuffix(file, ext)
	}
	id := f.nextID
	f.nextID++
	f.items[id] = &fakeItem{id: id, title: title, file: file, data: data}
	return id
}

func (f *fakeWP) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

func (f *fakeWP) wpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "data": map[string]int{"status": status}})
}

func (f *fakeWP) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeWP) item(m *fakeItem) map[string]any {
	src := f.srv.URL + "/wp-content/uploads/" + m.file
	details := any([]any{})
	if strings.HasSuffix(m.file, ".jpg") {
		details = map[string]any{"file": m.file, "sizes": map[string]any{}}
	}
	return map[string]any{"id": m.id, "title": map[string]string{"raw": m.title, "rendered": m.title},
		"source_url": src, "media_details": details}
}

func (f *fakeWP) serve(w http.ResponseWriter, r *http.Request) {
	if f.fail != nil && f.fail(w, r) {
		return
	}
	if strings.HasPrefix(r.URL.Path, "/wp-content/uploads/") {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, m := range f.items {
			if m.file == path.Base(r.URL.Path) {
				_, _ = w.Write(m.data)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	route := ""
	switch {
	case strings.HasPrefix(r.URL.Path, "/wp-json/") && !f.plain:
		route = strings.TrimPrefix(r.URL.Path, "/wp-json")
	case r.URL.Path == "/" && r.URL.Query().Get("rest_route") != "":
		route = r.URL.Query().Get("rest_route")
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<html>Page not found</html>")
		return
	}
	authed := false
	if h := r.Header.Get("Authorization"); h != "" {
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		u, p, _ := strings.Cut(string(raw), ":")
		if u != f.user || strings.ReplaceAll(p, " ", "") != strings.ReplaceAll(f.pw, " ", "") {
			// What a careless plugin might do: echo what it was given.
			f.wpError(w, http.StatusUnauthorized, "rest_not_logged_in", "Not logged in as "+u+" with "+p)
			return
		}
		authed = true
	}
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case route == "/wp/v2/media" && r.Method == http.MethodGet:
		if q.Get("context") == "edit" && !authed {
			f.wpError(w, http.StatusUnauthorized, "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.")
			return
		}
		var list []*fakeItem
		for _, m := range f.items {
			if s := q.Get("search"); s == "" || strings.Contains(m.title, s) || strings.Contains(m.file, s) {
				list = append(list, m)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].id > list[j].id })
		per, _ := strconv.Atoi(q.Get("per_page"))
		if per <= 0 {
			per = 10
		}
		page, _ := strconv.Atoi(q.Get("page"))
		if page <= 0 {
			page = 1
		}
		pages := (len(list) + per - 1) / per
		w.Header().Set("X-WP-Total", strconv.Itoa(len(list)))
		w.Header().Set("X-WP-TotalPages", strconv.Itoa(pages))
		out := []map[string]any{}
		for i := (page - 1) * per; i < len(list) && i < page*per; i++ {
			out = append(out, f.item(list[i]))
		}
		f.json(w, http.StatusOK, out)
	case route == "/wp/v2/media" && r.Method == http.MethodPost:
		if !authed {
			f.wpError(w, http.StatusUnauthorized, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
			return
		}
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] == "" {
			f.wpError(w, http.StatusBadRequest, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
			return
		}
		data, _ := io.ReadAll(r.Body)
		if len(data) == 0 {
			f.wpError(w, http.StatusBadRequest, "rest_upload_no_data", "No data supplied.")
			return
		}
		id := f.store(q.Get("title"), params["filename"], data)
		f.json(w, http.StatusCreated, f.item(f.items[id]))
	case strings.HasPrefix(route, "/wp/v2/media/") && r.Method == http.MethodDelete:
		f.deletes++
		if !authed {
			f.wpError(w, http.StatusUnauthorized, "rest_cannot_delete", "Sorry, you are not allowed to delete this post.")
			return
		}
		if q.Get("force") != "true" {
			f.wpError(w, http.StatusNotImplemented, "rest_trash_not_supported", "The post does not support trashing.")
			return
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(route, "/wp/v2/media/"), 10, 64)
		m, ok := f.items[id]
		if !ok {
			f.wpError(w, http.StatusNotFound, "rest_post_invalid_id", "Invalid post ID.")
			return
		}
		delete(f.items, id)
		delete(f.files, m.file)
		f.json(w, http.StatusOK, map[string]any{"deleted": true, "previous": f.item(m)})
	default:
		f.wpError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

// read returns the content of the one item titled name (an error if there
// is none or more than one).
func (f *fakeWP) read(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var found []*fakeItem
	for _, m := range f.items {
		if m.title == name {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%d media items titled %s", len(found), name)
	}
	return found[0].data, nil
}

// target returns a target for the fake with the right password.
func (f *fakeWP) target(t *testing.T) *Target {
	return f.targetWith(t, f.pw)
}

func (f *fakeWP) targetWith(t *testing.T, pw string) *Target {
	return envTarget(t, f.srv.URL, f.user, pw, nil)
}

// envTarget returns a target named "site" for url whose password comes from
// the environment variable PG_TEST_WP_PASSWORD.
func envTarget(t *testing.T, url, user, pw string, tr http.RoundTripper) *Target {
	t.Helper()
	t.Setenv("PG_TEST_WP_PASSWORD", pw)
	tg, err := New(Options{Name: "site", URL: url, User: user, PasswordEnv: "PG_TEST_WP_PASSWORD", Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
