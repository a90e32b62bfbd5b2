package inboxtest

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/testenv"
)

// The .AAE is a well-formed property list whose adjustment data inflates
// to JSON, as iOS writes it.
func TestAAEIsAPropertyList(t *testing.T) {
	var plist struct {
		Dict struct {
			Keys []string `xml:"key"`
			Data string   `xml:"data"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(AAE(), &plist); err != nil {
		t.Fatal(err)
	}
	if len(plist.Dict.Keys) != 5 || plist.Dict.Keys[1] != "adjustmentData" {
		t.Fatalf("keys %v", plist.Dict.Keys)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(plist.Dict.Data), ""))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatalf("adjustment data %q: %v", js, err)
	}
}

// exiftool, an independent parser, reads each fixture as what it claims to
// be, and reads the Live Photo's content identifier.
func TestFixturesParseAsTheirType(t *testing.T) {
	exiftool := testenv.RequireTool(t, "exiftool")
	dir := t.TempDir()
	files := append(LivePhoto("IMG_0001", ".JPG", []byte("not read")), File{"CLIP_0002.MP4", MP4()})
	paths, err := Write(dir, files...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"IMG_0001.MOV": "MOV", "IMG_0001.AAE": "AAE", "CLIP_0002.MP4": "MP4"}
	for _, p := range paths {
		name := filepath.Base(p)
		if want[name] == "" {
			continue
		}
		out, err := exec.Command(exiftool, "-s3", "-FileType", "-ContentIdentifier", p).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if lines[0] != want[name] {
			t.Errorf("%s: exiftool says %q, want %s", name, out, want[name])
		}
		if name == "IMG_0001.MOV" && (len(lines) < 2 || lines[1] != uuid("IMG_0001")) {
			t.Errorf("%s: content identifier %q, want %s", name, out, uuid("IMG_0001"))
		}
	}
}

// The same arguments give the same bytes.
func TestDeterministic(t *testing.T) {
	if !bytes.Equal(MOV("x"), MOV("x")) || !bytes.Equal(AAE(), AAE()) || !bytes.Equal(MP4(), MP4()) {
		t.Fatal("a fixture changed between two calls")
	}
}
