package wordpress

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Target publishes into one WordPress site's media library.
type Target struct {
	opts     Options
	site     *url.URL
	password string
	client   *http.Client

	mu    sync.Mutex
	plain bool // the REST API is reached with ?rest_route= (no pretty permalinks)
	found bool // the API's form has been found
}

// New checks the options, reads the application password and returns the
// target. It does not contact the site.
func New(opts Options) (*Target, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	site, _ := siteURL(opts.URL)
	pw, err := opts.password()
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	tr := opts.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Target{
		opts:     opts,
		site:     site,
		password: pw,
		client: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// A redirect is reported, not followed: Go turns a redirected
			// POST into a GET, and the password should go only where the
			// configuration says.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// URL is the site's address as configured (without a trailing slash).
func (t *Target) URL() string { return t.site.String() }

// media is the part of a WordPress media item that the target reads.
type media struct {
	ID    int64 `json:"id"`
	Title struct {
		Raw string `json:"raw"`
	} `json:"title"`
	SourceURL string `json:"source_url"`
	// Details is an object for most items but WordPress sends [] when it has
	// none, so it is decoded by hand.
	Details json.RawMessage `json:"media_details"`
}

// fileNames are the names WordPress stored the item's file under: the
// uploaded file (before WordPress scaled a large image down) and the file
// the item now points at.
func (m media) fileNames() []string {
	var names []string
	var d struct {
		File          string `json:"file"`
		OriginalImage string `json:"original_image"`
	}
	if len(m.Details) > 0 && m.Details[0] == '{' && json.Unmarshal(m.Details, &d) == nil {
		if d.OriginalImage != "" {
			names = append(names, d.OriginalImage)
		}
		if d.File != "" {
			names = append(names, path.Base(d.File))
		}
	}
	if u, err := url.Parse(m.SourceURL); err == nil && u.Path != "" {
		names = append(names, path.Base(u.Path))
	}
	return names
}

// shows reports whether the item is the one published under name: photoguard
// sets the title to the name (WordPress renames the file of a second upload
// to name-1.jpg, so the file name alone is not enough), and an item uploaded
// by other means whose file is name counts too.
func (m media) shows(name string) bool {
	if m.Title.Raw == name {
		return true
	}
	for _, f := range m.fileNames() {
		if f == name {
			return true
		}
	}
	return false
}

// checkName refuses anything but a plain file name of printable ASCII
// (WordPress reads no other file name from Content-Disposition).
func (t *Target) checkName(name string) error {
	bad := name == "" || strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\"`) || len(name) > 200
	for _, r := range name {
		if r < 0x20 || r > 0x7e {
			bad = true
		}
	}
	if bad {
		return &Error{Target: t.opts.Name, Op: fmt.Sprintf("name %q", name), Hint: "not a plain file name (printable ASCII without / \\ \" and not starting with a dot)", perm: true}
	}
	return nil
}

// Publish uploads data as a new media item titled name, then deletes every
// older item shown under name, so that exactly one remains. If that clean-up
// fails, Publish returns the error; publishing again uploads once more and
// cleans up all older items, the one uploaded here included.
func (t *Target) Publish(ctx context.Context, name string, data []byte) (string, error) {
	if err := t.checkName(name); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	op := "uploading " + name
	ctype := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	var created media
	if err := t.call(ctx, op, http.MethodPost, "/wp/v2/media", url.Values{"title": {name}}, hdr, data, &created); err != nil {
		return "", err
	}
	if created.ID <= 0 {
		return "", &Error{Op: op, Hint: "WordPress answered without a media id", Target: t.opts.Name}
	}
	items, err := t.find(ctx, name)
	if err != nil {
		return "", err
	}
	for _, m := range items {
		if m.ID == created.ID {
			continue
		}
		if err := t.remove(ctx, m.ID, fmt.Sprintf("removing the older media %d of %s", m.ID, name)); err != nil {
			return "", err
		}
	}
	return strconv.FormatInt(created.ID, 10), nil
}

// Exists reports the newest media item shown under name.
func (t *Target) Exists(ctx context.Context, name string) (string, bool, error) {
	if err := t.checkName(name); err != nil {
		return "", false, err
	}
	items, err := t.find(ctx, name)
	if err != nil || len(items) == 0 {
		return "", false, err
	}
	newest := items[0]
	for _, m := range items[1:] {
		if m.ID > newest.ID {
			newest = m
		}
	}
	return strconv.FormatInt(newest.ID, 10), true, nil
}

// Remove deletes media item ref for good (WordPress has no trash for media);
// an item that is not there is no error.
func (t *Target) Remove(ctx context.Context, ref string) error {
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return &Error{Op: fmt.Sprintf("removing %q", ref), Hint: "not a WordPress media id", perm: true, Target: t.opts.Name}
	}
	return t.remove(ctx, id, fmt.Sprintf("removing media %d", id))
}

func (t *Target) remove(ctx context.Context, id int64, op string) error {
	err := t.call(ctx, op, http.MethodDelete, "/wp/v2/media/"+strconv.FormatInt(id, 10), url.Values{"force": {"true"}}, nil, nil, nil)
	// Gone is what WordPress says of an id it does not have; a 404 without
	// that code (no such route, a proxy's page) is not proof of removal.
	if e, ok := err.(*Error); ok && (e.Status == http.StatusNotFound && e.Code == "rest_post_invalid_id" || e.Status == http.StatusGone) {
		return nil
	}
	return err
}

// perPage is the largest page WordPress serves.
const perPage = 100

// maxPages bounds a search (10,000 items whose title or file name contain
// the name).
const maxPages = 100

// find returns every media item shown under name. WordPress's search looks
// in titles and (for media) file names; the items are then checked exactly.
func (t *Target) find(ctx context.Context, name string) ([]media, error) {
	// A leading "-" would make the word an exclusion.
	term := strings.TrimLeft(name, "-")
	var found []media
	for page := 1; page <= maxPages; page++ {
		q := url.Values{
			"search":   {term},
			"context":  {"edit"}, // needs the credentials: a wrong password is an error, not an empty list
			"per_page": {strconv.Itoa(perPage)},
			"page":     {strconv.Itoa(page)},
			"orderby":  {"id"},
			"order":    {"desc"},
			"_fields":  {"id,title,source_url,media_details"},
		}
		var items []media
		var pages int
		err := t.callPages(ctx, "looking up "+name, q, &items, &pages)
		if err != nil {
			return nil, err
		}
		for _, m := range items {
			if m.shows(name) {
				found = append(found, m)
			}
		}
		if page >= pages || len(items) < perPage {
			break
		}
	}
	return found, nil
}

func (t *Target) callPages(ctx context.Context, op string, q url.Values, out *[]media, pages *int) error {
	resp, body, err := t.send(ctx, op, http.MethodGet, "/wp/v2/media", q, nil, nil, true)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Hint: "WordPress's answer is not a media list: " + err.Error(), Target: t.opts.Name}
	}
	*pages, _ = strconv.Atoi(resp.Header.Get("X-WP-TotalPages"))
	return nil
}

// call sends one authenticated request to route and decodes a JSON answer
// into out (when out is not nil).
func (t *Target) call(ctx context.Context, op, method, route string, q url.Values, hdr http.Header, body []byte, out any) error {
	resp, data, err := t.send(ctx, op, method, route, q, hdr, body, true)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &Error{Op: op, Status: resp.StatusCode, Hint: "WordPress's answer is not JSON: " + err.Error(), Target: t.opts.Name}
		}
	}
	return nil
}

// maxAnswer bounds what is read of an answer (a page of 100 media items is
// a few hundred KB).
const maxAnswer = 16 << 20

// send performs one request and returns the response with its body when the
// status is 2xx, otherwise a classified *Error.
func (t *Target) send(ctx context.Context, op, method, route string, q url.Values, hdr http.Header, body []byte, auth bool) (*http.Response, []byte, error) {
	plain, err := t.apiForm(ctx)
	if err != nil {
		return nil, nil, err
	}
	resp, data, err := t.roundTrip(ctx, op, method, t.endpoint(plain, route, q), hdr, body, auth)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, t.statusError(op, resp, data, len(body))
	}
	return resp, data, nil
}

func (t *Target) roundTrip(ctx context.Context, op, method, endpoint string, hdr http.Header, body []byte, auth bool) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		return nil, nil, &Error{Op: op, Err: err, perm: true, Target: t.opts.Name}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "photoguard")
	if auth {
		req.SetBasicAuth(t.opts.User, t.password)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, t.networkError(op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, t.networkError(op, err)
	}
	return resp, data, nil
}

// endpoint is the address of a REST route.
func (t *Target) endpoint(plain bool, route string, q url.Values) string {
	u := *t.site
	if plain {
		// Sites without pretty permalinks: /?rest_route=/wp/v2/media&...
		u.Path += "/"
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("rest_route", route)
		u.RawQuery = v.Encode()
	} else {
		u.Path += "/wp-json" + route
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// apiForm finds, once, whether the REST API answers under /wp-json/ or only
// with ?rest_route= (a site with plain permalinks), by asking for one media
// item without credentials. It reports plain.
func (t *Target) apiForm(ctx context.Context) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.found {
		return t.plain, nil
	}
	q := url.Values{"per_page": {"1"}, "_fields": {"id"}}
	const op = "looking for the WordPress REST API"
	for _, plain := range []bool{false, true} {
		resp, _, err := t.roundTrip(ctx, op, http.MethodGet, t.endpoint(plain, "/wp/v2/media", q), nil, nil, false)
		if err != nil {
			return false, err
		}
		if isJSON(resp) {
			t.plain, t.found = plain, true
			return plain, nil
		}
		if resp.StatusCode/100 == 3 {
			return false, t.statusError(op, resp, nil, 0)
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
			return false, t.statusError(op, resp, nil, 0)
		}
	}
	return false, &Error{Op: op, Target: t.opts.Name, perm: true,
		Hint: fmt.Sprintf("neither %s nor %s answers as WordPress's REST API: check %s (the site's home address), and that no plugin switches the REST API off",
			t.endpoint(false, "/", nil), t.endpoint(true, "/", nil), t.opts.key("url"))}
}

func isJSON(resp *http.Response) bool {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}
