package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
)

// consentSchool is a state folder with the demo's eight people in the
// consent store, six of them enrolled with 19 references (made up
// descriptors: nothing here needs the face models).
func consentSchool(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, filepath.Join(dir, "models"))
	csv := writeCSV(t, dir, "all.csv", demoConsent(time.Now()))
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csv, false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"howard", "leonard", "penny", "raj", "sheldon", "stuart"} {
		n := 3
		if id == "stuart" {
			n = 4
		}
		var refs []consent.Reference
		for k := 0; k < n; k++ {
			var d detect.Descriptor
			d[0], d[1+i] = 1, float32(k+1)
			refs = append(refs, consent.Reference{Descriptor: d, SourceSHA256: fmt.Sprintf("%064x", 100*i+k), Model: "m"})
		}
		if err := store.Enroll(id, refs); err != nil {
			t.Fatal(err)
		}
	}
	return cfg, dir
}

func writeCSV(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return exitUsage
}

// The reported case: a two-row export would remove six people and their 19
// enrolled references. It is refused (exit 1), as a dry run too, with the
// ids listed; --allow-remove lets it through, reports who lost what, keeps
// the store as it was, and the README's way back restores it.
func TestConsentImportRefusesRemovals(t *testing.T) {
	cfg, dir := consentSchool(t)
	lines := strings.SplitAfter(demoConsent(time.Now()), "\n")
	two := writeCSV(t, dir, "two.csv", lines[0]+lines[1]+lines[2]) // amy, bernadette
	wantIDs := []string{"howard: 3 enrolled references", "leonard: 3", "penny: 3", "raj: 3", "sheldon: 3", "stuart: 4 enrolled references"}

	for _, dry := range []bool{true, false} {
		var out bytes.Buffer
		err := runImport(&out, cfg, importFlags{path: two, dryRun: dry})
		if exitCode(err) == 0 {
			t.Fatalf("dry run %v: a two-row import that removes six people went through:\n%s", dry, out.String())
		}
		got := out.String()
		for _, want := range append([]string{"was not imported; nothing changed: it would remove 6 persons", "more than consent.max_remove (5)", "--allow-remove"}, wantIDs...) {
			if !strings.Contains(got, want) {
				t.Errorf("dry run %v: output lacks %q:\n%s", dry, want, got)
			}
		}
		if strings.Contains(got, "Penny") || strings.Contains(got, "Demo") {
			t.Errorf("output names someone:\n%s", got)
		}
	}
	var out bytes.Buffer
	if err := consentList(&out, cfg, ""); err != nil || !strings.Contains(out.String(), "8 persons") {
		t.Fatalf("the refused import changed the store: %v\n%s", err, out.String())
	}

	out.Reset()
	if err := runImport(&out, cfg, importFlags{path: two, allowRemove: true}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range append([]string{"2 in the consent store (0 added, 0 updated, 2 unchanged, 6 removed)",
		"not in the file, removed, with their enrolled faces:", "19 enrolled faces of 6 persons deleted", "kept in "}, wantIDs...) {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	backups, _ := filepath.Glob(filepath.Join(cfg.StateDir, "registry", "registry.db.before-import-*"))
	if len(backups) != 1 || !strings.Contains(got, backups[0]) {
		t.Fatalf("backups %v", backups)
	}
	if st, err := os.Stat(backups[0]); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup: %v", err)
	}
	events, err := audit.Read(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Kind == audit.ConsentImport && e.Detail != "" && strings.Join(e.Pupils, ",") == "howard,leonard,penny,raj,sheldon,stuart" {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit event lists the removed ids: %+v", events)
	}

	// Undoing the import, as the README says: list the backups, look at
	// what a restore changes, put it back.
	out.Reset()
	if err := consentRestore(&out, cfg, "", false); err != nil || !strings.Contains(out.String(), backups[0]) {
		t.Fatalf("listing backups: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := consentRestore(&out, cfg, backups[0], true); err != nil ||
		!strings.Contains(out.String(), "in the restored consent store, not in the last state seen: howard, leonard, penny, raj, sheldon, stuart") {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := consentRestore(&out, cfg, backups[0], false); err != nil || !strings.Contains(out.String(), "restored "+backups[0]+": 8 in the consent store") {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if snap := store.Snapshot(); snap.Len() != 8 || len(snap.References("stuart")) != 4 {
		t.Errorf("after the restore: %d people, %d references of stuart", snap.Len(), len(snap.References("stuart")))
	}
}

// consent revoke and an import that withdraws consent print the takedown
// to run, per pupil and channel, and are in the audit log by id.
func TestConsentWithdrawalsPrintTakedown(t *testing.T) {
	cfg, dir := consentSchool(t)
	var out bytes.Buffer
	if err := consentRevoke(&out, cfg, "penny", "all"); err != nil {
		t.Fatal(err)
	}
	for _, ch := range config.Channels {
		if want := "photoguard takedown --pupil penny --channel " + ch + "\n"; !strings.Contains(out.String(), want) {
			t.Errorf("revoke all does not print %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := consentRevoke(&out, cfg, "nobody", "website"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("revoke of an unknown id: %v", err)
	}
	if err := consentRevoke(&out, cfg, "amy", "tiktok"); err == nil {
		t.Errorf("revoke of an unknown channel succeeded")
	}

	// amy's website consent is withdrawn in the next export.
	text := strings.Replace(demoConsent(time.Now()), "amy,Amy,Demo,groep 8,yes,", "amy,Amy,Demo,groep 8,no,", 1)
	out.Reset()
	if err := runImport(&out, cfg, importFlags{path: writeCSV(t, dir, "next.csv", text)}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"consent withdrawn by this import: amy website", "photoguard takedown --pupil amy --channel website\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import output lacks %q:\n%s", want, out.String())
		}
	}
	events, _ := audit.Read(cfg.StateDir)
	revokes, withdrawn := 0, 0
	for _, e := range events {
		if e.Kind == audit.ConsentRevoke && strings.Join(e.Pupils, ",") == "penny" {
			revokes++
		}
		if e.Kind == audit.ConsentImport && strings.Join(e.Pupils, ",") == "amy" && e.Channel == "website" {
			withdrawn++
		}
	}
	if revokes != 4 || withdrawn != 1 {
		t.Errorf("audit: %d revoke events of penny, %d withdrawals of amy: %+v", revokes, withdrawn, events)
	}
}

// The column mapping in the configuration reaches the import.
func TestConsentImportColumnMapping(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, filepath.Join(dir, "models"))
	csv := writeCSV(t, dir, "odd.csv", "Nummer;Naam;Familienaam;Mag op website;Mag op Facebook;Mag in nieuwsbrief;Mag in de app;Getekend\n"+
		"100231;Sanne;Bakker;ja;nee;ja;ja;"+time.Now().Format("02-01-2006")+"\n")
	var out bytes.Buffer
	err := runImport(&out, cfg, importFlags{path: csv})
	if exitCode(err) != exitUsage || !strings.Contains(out.String(), `missing column first_name: none of "Nummer", "Naam"`) {
		t.Fatalf("unmapped: %v\n%s", err, out.String())
	}
	cfg.Consent.Columns = config.ConsentColumns{ID: "Nummer", FirstName: "Naam", LastName: "Familienaam", ParentPortal: "Mag in de app", ConfirmedOn: "Getekend"}
	out.Reset()
	if err := runImport(&out, cfg, importFlags{path: csv}); err != nil {
		t.Fatalf("mapped: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 in the consent store (1 added") {
		t.Errorf("%s", out.String())
	}
}

// enroll --remove of an id that is not in the store, or has no enrolled
// faces, says so and is an error (a non-zero exit); of one with faces it
// says how many went.
func TestEnrollRemove(t *testing.T) {
	cfg, _ := consentSchool(t)
	var out bytes.Buffer
	if err := enrollRemove(&out, cfg, "nobody"); err == nil || !strings.Contains(err.Error(), "nobody is not in the consent store: nothing deleted") {
		t.Errorf("unknown id: %v %s", err, out.String())
	}
	if err := enrollRemove(&out, cfg, "amy"); err == nil || !strings.Contains(err.Error(), "amy has no enrolled faces") {
		t.Errorf("id without faces: %v %s", err, out.String())
	}
	if err := enrollRemove(&out, cfg, "stuart"); err != nil || !strings.Contains(out.String(), "4 enrolled faces of stuart deleted") {
		t.Errorf("stuart: %v %s", err, out.String())
	}
	events, _ := audit.Read(cfg.StateDir)
	if e := events[len(events)-1]; e.Kind != audit.Enroll || e.Count != 4 || strings.Join(e.Pupils, ",") != "stuart" {
		t.Errorf("last audit event %+v", e)
	}
}

func TestConsentListJSON(t *testing.T) {
	cfg, _ := consentSchool(t)
	var out bytes.Buffer
	if err := consentListAs(&out, cfg, "", true); err != nil {
		t.Fatal(err)
	}
	var people []struct {
		ID         string `json:"id"`
		FirstName  string `json:"first_name"`
		References int    `json:"references"`
		Consent    map[string]struct {
			Valid       bool   `json:"valid"`
			Why         string `json:"why"`
			ConfirmedOn string `json:"confirmed_on"`
		} `json:"consent"`
	}
	if err := json.Unmarshal(out.Bytes(), &people); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(people) != 8 || strings.Contains(out.String(), "Demo") {
		t.Fatalf("%d people, or a last name:\n%s", len(people), out.String())
	}
	for _, p := range people {
		if p.ID == "sheldon" && (p.Consent["website"].Valid || p.Consent["newsletter"].ConfirmedOn != time.Now().Format("2006-01-02") || p.References != 3) {
			t.Errorf("sheldon: %+v", p)
		}
		if p.ID == "amy" && (!p.Consent["website"].Valid || p.FirstName != "Amy") {
			t.Errorf("amy: %+v", p)
		}
	}
}

func TestEnrollListJSON(t *testing.T) {
	models := modelsForTest(t)
	cfg, _ := consentSchool(t)
	cfg.ModelsDir = models
	var out bytes.Buffer
	if err := enrollListAs(&out, cfg, true); err != nil {
		t.Fatal(err)
	}
	var people []struct {
		ID         string `json:"id"`
		References int    `json:"references"`
		OtherModel *int   `json:"other_model_references"`
	}
	if err := json.Unmarshal(out.Bytes(), &people); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(people) != 6 || people[len(people)-1].ID != "stuart" || people[len(people)-1].References != 4 ||
		people[0].OtherModel == nil || *people[0].OtherModel != 3 { // made with model "m", not the files in models_dir
		t.Errorf("%s", out.String())
	}
}
