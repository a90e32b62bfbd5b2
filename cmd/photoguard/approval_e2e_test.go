package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/approval"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/redact/testenv"
)

// TestApprovalEndToEnd is issue 20 with the real models, on one school (the
// eight people enrolled once; sheldon has no consent for the website,
// everyone may be in the parent portal), with the defaults: the website
// needs the direction's approval and takes no photo of one pupil on their
// own; the parent portal needs neither.
//
// One service run over a class photo (four pupils' reference portraits two
// by two: amy, penny, raj and howard, each face a sixth of the photo's
// side, so that who is in it does not depend on the matcher's margins), two copies of it with other bytes after its end (other photos
// to photoguard, the same pixels) and a portrait of amy:
//   - every copy of the group photo goes to the portal at once and waits for
//     the website; the inbox is wiped, the original kept sealed;
//   - the portrait goes to the portal and not to the website, with the note;
//   - raj's website consent is withdrawn while it waits: approve publishes
//     the first copy once, raj blurred (judged from the output by a
//     detector of the test's own), with the approver in the ledger;
//     approving again publishes nothing more;
//   - reject sends the second nothing; expiry rejects the third; both
//     originals are deleted and the answers are in the audit log.
func TestApprovalEndToEnd(t *testing.T) {
	s := newFaceSchool(t)
	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\nwatch:\n  settle: 0s\n"+
		"targets:\n  website:\n    type: dir\n    path: %[1]s/out-website\n    channel: website\n"+
		"  portal:\n    type: dir\n    path: %[1]s/out-portal\n    channel: parent_portal\n", s.dir, s.models)
	cfg := writeConfig(t, t.TempDir(), yaml)
	if w := cfg.Targets["website"]; w.Approval != "direction" || w.Individual != "closed_only" {
		t.Fatalf("website defaults: approval %q, individual %q", w.Approval, w.Individual)
	}

	group := classPhoto(t, s.testdata, "amy", "penny", "raj", "howard")
	in := filepath.Join(s.dir, "inbox", "groep-8")
	photos := map[string][]byte{
		"approve.jpg": group,
		"reject.jpg":  append(bytes.Clone(group), "other photo 2"...),
		"expire.jpg":  append(bytes.Clone(group), "other photo 3"...),
		"amy.jpg":     portrait(t, filepath.Join(s.testdata, "faces", "identities", "amy", "amy1.png")),
	}
	sha := map[string]string{}
	for name, data := range photos {
		if err := os.MkdirAll(in, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	items := serviceRun(t, cfg, filepath.Join(s.dir, "inbox"))
	for rel, its := range items {
		for _, it := range its {
			t.Logf("%s -> %s: %s %s (%+v)", rel, it.Target, it.Outcome, it.Reason, it.Faces)
			sha[filepath.Base(rel)] = it.SHA256
		}
	}
	outcome := func(name, target string) pipeline.Item {
		for _, it := range items["groep-8/"+name] {
			if it.Target == target {
				return it
			}
		}
		t.Fatalf("no item for %s on %s", name, target)
		return pipeline.Item{}
	}
	for _, name := range []string{"approve.jpg", "reject.jpg", "expire.jpg"} {
		if it := outcome(name, "portal"); it.Outcome != pipeline.Published {
			t.Errorf("%s on the portal: %s (%s), want published", name, it.Outcome, it.Reason)
		}
		it := outcome(name, "website")
		if it.Outcome != pipeline.Waiting || !strings.Contains(it.Reason, "waiting for approval") {
			t.Errorf("%s on the website: %s (%s), want waiting for approval", name, it.Outcome, it.Reason)
		}
		if _, err := os.Lstat(filepath.Join(in, name)); err == nil {
			t.Errorf("%s is still in the inbox: a waiting photo's input is wiped once it is kept", name)
		}
	}
	// The portrait: amy, recognised, on her own.
	web, portal := outcome("amy.jpg", "website"), outcome("amy.jpg", "portal")
	if portal.Outcome != pipeline.Published || portal.Faces == nil || !slices.Contains(portal.Faces.ShownIDs, "amy") {
		t.Fatalf("amy's portrait on the portal: %+v, want published with amy shown", portal)
	}
	if web.Outcome != pipeline.Rejected || web.Reason != pipeline.ReasonIndividual {
		t.Errorf("amy's portrait on the website: %s (%s), want rejected: %s", web.Outcome, web.Reason, pipeline.ReasonIndividual)
	}
	note, err := os.ReadFile(filepath.Join(in, "amy.jpg"+pipeline.NoteSuffix))
	if err != nil || !strings.Contains(string(note), pipeline.ReasonIndividual) {
		t.Errorf("the teacher's note of the portrait: %v\n%s", err, note)
	}
	if names := dirNames(t, cfg.Targets["website"].Path); len(names) != 0 {
		t.Fatalf("the website holds %v before anyone approved anything", names)
	}
	if n := len(dirNames(t, cfg.Targets["portal"].Path)); n != 4 {
		t.Errorf("the portal holds %d photos, want 4", n)
	}

	// What waits: listed, the originals sealed (not a byte of the photo in
	// the clear).
	var out bytes.Buffer
	if err := printPending(&out, cfg, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	var pend []pendingPhoto
	if err := json.Unmarshal(out.Bytes(), &pend); err != nil {
		t.Fatalf("pending --json: %v\n%s", err, out.String())
	}
	if len(pend) != 3 {
		t.Fatalf("pending lists %d photos, want 3:\n%s", len(pend), out.String())
	}
	for _, pp := range pend {
		if pp.Group != "groep-8" || len(pp.Targets) != 1 || pp.Targets[0].Target != "website" || pp.Targets[0].Shown != 4 {
			t.Errorf("pending: %+v", pp)
		}
		sealed, err := os.ReadFile(filepath.Join(cfg.StateDir, approval.Folder, pp.SHA256, "original.sealed"))
		if err != nil || bytes.Contains(sealed, group[1000:1100]) {
			t.Errorf("photo %s: the kept original is missing or not sealed: %v", pp.Photo, err)
		}
	}

	// The direction's page: each waiting photo as it would be published,
	// with the commands; nothing unredacted.
	out.Reset()
	page := filepath.Join(t.TempDir(), "waiting.html")
	if err := waitingPage(&out, cfg, reviewFlags{out: page, waiting: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range pend {
		for _, want := range []string{"photoguard approve " + pp.Photo + " --target website", "photoguard reject " + pp.Photo + " --target website"} {
			if !bytes.Contains(html, []byte(want)) {
				t.Errorf("the waiting page lacks %q", want)
			}
		}
	}
	if n := bytes.Count(html, []byte(`<img src="data:image/jpeg;base64,`)); n != 3 {
		t.Errorf("the waiting page shows %d images, want the 3 outputs as they would be published", n)
	}

	// raj says no to the website while it waits; then the direction approves.
	out.Reset()
	if err := consentRevoke(&out, cfg, "raj", "website"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	short := sha["approve.jpg"][:12]
	if err := runApprove(context.Background(), &out, cfg, []string{short}, answerFlags{}, "directie", time.Now()); err != nil {
		t.Fatalf("approve: %v\n%s", err, out.String())
	}
	t.Logf("approve: %s", out.String())
	published := dirNames(t, cfg.Targets["website"].Path)
	if len(published) != 1 || !strings.Contains(published[0], short) {
		t.Fatalf("after approve the website holds %v, want the approved photo", published)
	}
	out.Reset()
	if err := runApprove(context.Background(), &out, cfg, []string{short}, answerFlags{}, "directie", time.Now()); err != nil {
		t.Fatalf("approve again: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "already approved") || len(dirNames(t, cfg.Targets["website"].Path)) != 1 {
		t.Errorf("approving again: %s; website %v", out.String(), dirNames(t, cfg.Targets["website"].Path))
	}
	entries := ledgerEntries(t, cfg.StateDir)
	var confirmed []ledger.Entry
	for _, e := range entries {
		if e.SHA256 == sha["approve.jpg"] && e.Target == "website" && e.Kind == ledger.Confirmed {
			confirmed = append(confirmed, e)
		}
	}
	if len(confirmed) != 1 || confirmed[0].ApprovedBy != "directie" || confirmed[0].ApprovedAt.IsZero() {
		t.Fatalf("ledger: %+v, want one publication approved by directie", confirmed)
	}
	if !slices.Equal(confirmed[0].Pupils, []string{"amy", "howard", "penny"}) {
		t.Errorf("ledger: the approved photo shows %v, want amy, howard and penny: raj withdrew while it waited", confirmed[0].Pupils)
	}
	// Judged from the published pixels: nobody there is raj or sheldon.
	judge, people := s.judge(t, cfg, dlib.HOG)
	defer judge.Close()
	faces, err := judge.Detect(context.Background(), decodeFile(t, filepath.Join(cfg.Targets["website"].Path, published[0])))
	if err != nil {
		t.Fatal(err)
	}
	var withheld []detect.Person
	for _, p := range people {
		if p.ID == "raj" || p.ID == "sheldon" {
			withheld = append(withheld, p)
		}
	}
	for _, m := range detect.MatchFaces(faces, withheld, detect.MatchConfig{Threshold: cfg.Faces.Threshold}) {
		if len(m.Nearest) > 0 && m.Nearest[0].Distance <= cfg.Faces.Threshold {
			t.Errorf("a face on the website is %.2f from %s, who may not be shown there", m.Nearest[0].Distance, m.Nearest[0].ID)
		}
	}

	// Reject: nothing is sent, the original goes, the audit log has it.
	out.Reset()
	if err := runReject(&out, cfg, []string{sha["reject.jpg"][:12]}, answerFlags{reason: "achtergrond niet geschikt"}, "directie"); err != nil {
		t.Fatal(err)
	}
	// Expiry: approval.expire passed (set short here) rejects the last one.
	cfg.Approval.Expire = time.Nanosecond
	out.Reset()
	if err := runPurge(context.Background(), &out, cfg, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "expired approval/"+sha["expire.jpg"][:12]+" for website") {
		t.Errorf("purge did not expire the last photo:\n%s", out.String())
	}
	if names := dirNames(t, cfg.Targets["website"].Path); len(names) != 1 {
		t.Errorf("the website holds %v: a rejected or expired photo was sent", names)
	}
	for _, name := range []string{"approve.jpg", "reject.jpg", "expire.jpg"} {
		if _, err := os.Lstat(filepath.Join(cfg.StateDir, approval.Folder, sha[name], "original.sealed")); err == nil {
			t.Errorf("%s is answered, but its original is still kept", name)
		}
	}
	out.Reset()
	if err := printPending(&out, cfg, false, time.Now()); err != nil || !strings.Contains(out.String(), "no photos wait") {
		t.Errorf("pending after every answer: %v\n%s", err, out.String())
	}
	answers := map[string]string{}
	for _, e := range auditEvents(t, cfg.StateDir) {
		if e.Kind == audit.Approval {
			answers[e.SHA256] = e.Outcome + " by " + e.By
		}
	}
	for name, want := range map[string]string{"approve.jpg": "approved by directie", "reject.jpg": "rejected by directie", "expire.jpg": "expired by photoguard"} {
		if answers[sha[name]] != want {
			t.Errorf("audit log: %s is %q, want %q", name, answers[sha[name]], want)
		}
	}
}

// classPhoto is the first reference crop of each of four people, two by
// two with room around them on a plain background (each face 150 px, a
// sixth of the photo's side).
func classPhoto(t *testing.T, testdata string, who ...string) []byte {
	t.Helper()
	canvas := image.NewNRGBA(image.Rect(0, 0, 880, 880))
	draw.Draw(canvas, canvas.Rect, image.NewUniform(color.Gray{Y: 200}), image.Point{}, draw.Src)
	for i, name := range who {
		face := decodePNG(t, filepath.Join(testdata, "faces", "identities", name, name+"1.png"))
		b := face.Bounds()
		draw.Draw(canvas, b.Sub(b.Min).Add(image.Pt(440*(i%2)+145, 440*(i/2)+145)), face, b.Min, draw.Src)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	testenv.Require(t, err == nil, "reference photo: %v", err)
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// portrait is a reference crop on a plain background three times its size,
// as a school portrait of one pupil.
func portrait(t *testing.T, path string) []byte {
	t.Helper()
	face := decodePNG(t, path)
	b := face.Bounds()
	canvas := image.NewNRGBA(image.Rect(0, 0, 3*b.Dx(), 3*b.Dy()))
	draw.Draw(canvas, canvas.Rect, image.NewUniform(color.Gray{Y: 200}), image.Point{}, draw.Src)
	draw.Draw(canvas, b.Add(image.Pt(b.Dx(), b.Dy())), face, b.Min, draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dirNames lists the visible files of a target folder.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func ledgerEntries(t *testing.T, stateDir string) []ledger.Entry {
	t.Helper()
	var out []ledger.Entry
	for _, line := range jsonLines(t, filepath.Join(stateDir, ledger.Dir, ledger.FileName)) {
		var e ledger.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func auditEvents(t *testing.T, stateDir string) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, line := range jsonLines(t, filepath.Join(stateDir, audit.FileName)) {
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func jsonLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines
}
