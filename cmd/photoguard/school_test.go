package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/redact/testenv"
)

// The school of the end-to-end tests (the consent register of the demo and
// the eight people enrolled from their five crops each) is enrolled once per
// test binary and copied into each test's own folder: enrolling it takes
// dlib over 40 photos, and five tests start from it. A test that checks
// enrolling itself enrolls on its own.
var school struct {
	once sync.Once
	dir  string // the enrolled school's folder (its state/ is copied)
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range []string{school.dir, groupRun.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// enrolledSchool returns the folder of the school enrolled once, enrolling
// it on the first call.
func enrolledSchool(testdata, models string) (string, error) {
	school.once.Do(func() {
		school.dir, school.err = enrollSchool(testdata, models)
	})
	return school.dir, school.err
}

// enrollSchool imports the demo's consent register (everyone may be on the
// website except sheldon) into a new folder's state/ and enrolls the eight
// people of the shared identities, each from all five crops.
func enrollSchool(testdata, models string) (dir string, err error) {
	tmp, err := os.MkdirTemp("", "photoguard-school-")
	if err != nil {
		return "", err
	}
	// On an error the folder goes (tmp: a return sets dir to "").
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	dir = tmp
	p, err := writeSchoolConfig(dir, models, "website", "consent")
	if err != nil {
		return "", err
	}
	cfg, err := config.Load(p)
	if err != nil {
		return "", err
	}
	csv := filepath.Join(dir, "consent.csv")
	if err := os.WriteFile(csv, []byte(demoConsent(time.Now())), 0o600); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csv, false, ""); err != nil {
		return "", fmt.Errorf("consent import: %w\n%s", err, out.String())
	}
	if err := enrollDir(context.Background(), &out, cfg, enrollFlags{dir: filepath.Join(testdata, "faces", "identities")}); err != nil {
		return "", fmt.Errorf("enroll: %w\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "enrolled from 5 photos"); n != 8 {
		return "", fmt.Errorf("enrolled %d of 8 people from all 5 crops:\n%s", n, out.String())
	}
	return dir, nil
}

// writeSchoolConfig writes the school's configuration with one target (named
// target, on the website channel) and the given policy into dir; everything
// else is the default.
func writeSchoolConfig(dir, models, target, policy string) (string, error) {
	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\nwatch:\n  settle: 0s\n"+
		"faces:\n  policy: %[4]s\ntargets:\n  %[3]s:\n    type: dir\n    path: %[1]s/out-%[3]s\n    channel: website\n    approval: none\n    individual: allowed\n",
		dir, models, target, policy)
	p := filepath.Join(dir, "photoguard-"+target+".yaml")
	return p, os.WriteFile(p, []byte(yaml), 0o600)
}

// copyTree copies the folder src to dst (which must not exist): a real copy
// of every file with its mode, so that a test may change its copy. Anything
// but folders and regular files (a link) is an error.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(to, info.Mode().Perm())
		case d.Type().IsRegular():
			return copyRegular(p, to, info.Mode().Perm())
		}
		return fmt.Errorf("copy %s: not a folder or a regular file (%s)", p, d.Type())
	})
}

func copyRegular(src, dst string, mode fs.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	_, err = io.Copy(out, in)
	return err
}

// TestCopyTreeIsACopy: a test's school is its own (changing a copied file
// leaves the template as it was) and a link in the template is refused.
func TestCopyTreeIsACopy(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "state", "journal"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "state", "journal", "r"), []byte("template"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dst, "state", "journal", "r")
	if fi, err := os.Stat(copied); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("copied file: %v %v, want mode 0600", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "state")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("copied folder: %v %v, want mode 0700", fi, err)
	}
	if err := os.WriteFile(copied, []byte("changed by a test"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "state", "journal", "r")); string(b) != "template" {
		t.Errorf("the template changed with its copy: %q", b)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "state", "link")); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, filepath.Join(t.TempDir(), "again")); err == nil {
		t.Error("a link in the template was copied")
	}
}

// The group photos batched once: the five shared group photos, one run of
// the service's pipeline to two targets of the enrolled school (website: consent policy, no
// approval, individual photos allowed; portal: the parent portal at its
// defaults), judged by the tests that look at what was published. Each test
// gets a copy of the folder (state, both targets' outputs).
var groupRun struct {
	once  sync.Once
	dir   string
	items []pipeline.Item
	err   error
}

// groupTargets are the two targets of the group run.
var groupTargets = []string{"website", "portal"}

// writeGroupConfig writes the group run's configuration into dir.
func writeGroupConfig(dir, models string) (string, error) {
	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\nwatch:\n  settle: 0s\nfaces:\n  policy: consent\n"+
		"targets:\n  website:\n    type: dir\n    path: %[1]s/out-website\n    channel: website\n    approval: none\n    individual: allowed\n"+
		"  portal:\n    type: dir\n    path: %[1]s/out-portal\n    channel: parent_portal\n", dir, models)
	p := filepath.Join(dir, "photoguard-groups.yaml")
	return p, os.WriteFile(p, []byte(yaml), 0o600)
}

// batchGroupsOnce makes the group run: a copy of the enrolled school and one
// run of the service over copies of the five group photos.
func batchGroupsOnce(testdata, models string) (dir string, items []pipeline.Item, err error) {
	enrolled, err := enrolledSchool(testdata, models)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp("", "photoguard-groups-")
	if err != nil {
		return "", nil, err
	}
	// On an error the folder goes (tmp: a return sets dir to "").
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	dir = tmp
	if err := copyTree(filepath.Join(enrolled, "state"), filepath.Join(dir, "state")); err != nil {
		return "", nil, err
	}
	p, err := writeGroupConfig(dir, models)
	if err != nil {
		return "", nil, err
	}
	cfg, err := config.Load(p)
	if err != nil {
		return "", nil, err
	}
	groups, _ := filepath.Glob(filepath.Join(testdata, "faces", "groups", "*.jpg"))
	if len(groups) != 5 {
		return "", nil, fmt.Errorf("5 group photos in %s, found %d", testdata, len(groups))
	}
	in := filepath.Join(dir, "batch")
	for _, g := range groups {
		if err := copyFile(g, filepath.Join(in, filepath.Base(g))); err != nil {
			return "", nil, err
		}
	}
	byInput, err := runService(cfg, in)
	if err != nil {
		return "", nil, fmt.Errorf("the service's run: %w", err)
	}
	for _, its := range byInput {
		items = append(items, its...)
	}
	return dir, items, nil
}

// groupSchool is a copy of the group run: the school with the five group
// photos published to both targets, its configuration (groupTargets) and
// the batch's items.
func groupSchool(t *testing.T) (*faceSchool, *config.Config, []pipeline.Item) {
	t.Helper()
	s := &faceSchool{dir: t.TempDir(), testdata: testenv.SharedTestdata(t), models: modelsForTest(t)}
	groups, _ := filepath.Glob(filepath.Join(s.testdata, "faces", "groups", "*.jpg"))
	testenv.Require(t, len(groups) == 5, "5 group photos in %s, found %d", s.testdata, len(groups))
	groupRun.once.Do(func() {
		groupRun.dir, groupRun.items, groupRun.err = batchGroupsOnce(s.testdata, s.models)
	})
	if groupRun.err != nil {
		t.Fatalf("the group photos batched once: %v", groupRun.err)
	}
	for _, sub := range []string{"state", "out-website", "out-portal"} {
		if err := copyTree(filepath.Join(groupRun.dir, sub), filepath.Join(s.dir, sub)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := writeGroupConfig(s.dir, s.models)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg, slices.Clone(groupRun.items)
}

// itemsOn are the items of one target by input name.
func itemsOn(items []pipeline.Item, target string) map[string]pipeline.Item {
	out := map[string]pipeline.Item{}
	for _, it := range items {
		if it.Target == target {
			out[it.Input] = it
		}
	}
	return out
}
