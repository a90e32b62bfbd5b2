package redact_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/testenv"
)

// The guarantee "no metadata leaves", in three steps per fixture:
//  1. the input really carries its dirt (inspect.Scan, and exiftool when
//     installed), so a broken fixture cannot make the test pass;
//  2. it is decoded and re-encoded;
//  3. the output passes VerifyClean, Scan finds nothing, exiftool shows
//     only allow-listed keys, and no secret occurs anywhere in its bytes.
func TestSanitizeDirtyFixtures(t *testing.T) {
	cs := append(fixture.Dirty(), fixture.Orientations()...)
	dir := t.TempDir()
	cs, err := fixture.Write(dir, cs)
	if err != nil {
		t.Fatal(err)
	}
	checkExifToolInputs(t, cs)
	outputs := map[string]string{}
	for _, c := range cs {
		t.Run(c.Name, func(t *testing.T) { checkSanitize(t, c, dir, outputs) })
	}
	checkExifToolOutputs(t, outputs)
}

func TestSanitizeHEIC(t *testing.T) {
	testenv.RequireTool(t, "heif-enc")
	dir := t.TempDir()
	cs, err := fixture.WriteHEIC(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkExifToolInputs(t, cs)
	outputs := map[string]string{}
	for _, c := range cs {
		t.Run(c.Name, func(t *testing.T) {
			if c.Expect == fixture.Refused {
				_, _, _, err := sanitize(c.Data, decode.DefaultLimits(), 0)
				if !decode.IsInputError(err) || !strings.Contains(err.Error(), c.Reason) {
					t.Fatalf("got %v, want an InputError with %q", err, c.Reason)
				}
				return
			}
			checkSanitize(t, c, dir, outputs)
		})
	}
	checkExifToolOutputs(t, outputs)
}

func useExifTool() bool { return testenv.HasTool("exiftool") || testenv.CI() }

// checkExifToolInputs checks that exiftool sees each case's ExifToolTags in
// the input.
func checkExifToolInputs(t *testing.T, cs []fixture.Case) {
	if !useExifTool() {
		t.Log("exiftool not installed: inputs and outputs checked by package inspect only")
		return
	}
	var paths []string
	for _, c := range cs {
		if len(c.ExifToolTags) > 0 {
			paths = append(paths, c.Path)
		}
	}
	all := testenv.ExifToolFiles(t, paths...)
	for _, c := range cs {
		for _, k := range c.ExifToolTags {
			if _, ok := all[c.Path][k]; !ok {
				t.Errorf("fixture broken: exiftool does not show %s in %s", k, c.Name)
			}
		}
	}
}

// checkExifToolOutputs checks that exiftool shows only allow-listed keys in
// the outputs (path -> case name).
func checkExifToolOutputs(t *testing.T, outputs map[string]string) {
	if !useExifTool() || len(outputs) == 0 {
		return
	}
	var paths []string
	for p := range outputs {
		paths = append(paths, p)
	}
	for p, tags := range testenv.ExifToolFiles(t, paths...) {
		if bad := testenv.UncleanExifToolKeys(tags); len(bad) > 0 {
			t.Errorf("%s: exiftool shows in the output: %v", outputs[p], bad)
		}
	}
}

func checkSanitize(t *testing.T, c fixture.Case, dir string, outputs map[string]string) {
	t.Helper()
	// 1. The input carries its dirt.
	r, err := inspect.Scan(c.Data)
	if err != nil {
		t.Fatalf("input: %v", err)
	}
	for _, k := range c.Carries {
		if !r.Has(k) {
			t.Fatalf("fixture broken: input carries %v, not %s", r.Kinds(), k)
		}
	}
	for _, s := range c.Secrets {
		if !bytes.Contains(c.Data, s.Bytes) {
			t.Fatalf("fixture broken: input does not contain %s", s.Name)
		}
	}

	// 2. Sanitize, at full size and scaled down.
	for _, maxSide := range []int{0, 100} {
		out, img, src, err := sanitize(c.Data, decode.DefaultLimits(), maxSide)
		if err != nil {
			t.Fatalf("maxSide %d: %v", maxSide, err)
		}
		if src.Orientation != c.Orientation {
			t.Errorf("orientation %d, want %d", src.Orientation, c.Orientation)
		}
		if src.DisplayP3 != c.DisplayP3 {
			t.Errorf("DisplayP3 %v, want %v", src.DisplayP3, c.DisplayP3)
		}
		if maxSide > 0 && max(img.Rect.Dx(), img.Rect.Dy()) != maxSide {
			t.Errorf("size %v, want long side %d", img.Rect.Size(), maxSide)
		}
		if c.Pattern || c.Gray {
			tol := 12
			if strings.HasSuffix(c.Name, ".heic") {
				tol = 16 // HEVC at q90 plus two YCbCr conversions
			}
			if err := fixture.CheckUpright(img, c.Gray, tol); err != nil {
				t.Errorf("maxSide %d: decoded image: %v", maxSide, err)
			}
			if err := fixture.CheckUpright(decodeJPEG(t, out), c.Gray, tol+4); err != nil {
				t.Errorf("maxSide %d: output JPEG: %v", maxSide, err)
			}
		}

		// 3. The output is clean.
		if err := encode.VerifyClean(out); err != nil {
			t.Errorf("VerifyClean: %v", err)
		}
		if r, err := inspect.Scan(out); err != nil || len(r.Findings) > 0 {
			t.Errorf("Scan of output: %v %v", r.Findings, err)
		}
		for _, s := range c.Secrets {
			if bytes.Contains(out, s.Bytes) {
				t.Errorf("output contains %s", s.Name)
			}
		}
		for _, s := range []string{fixture.PersonName, fixture.Photographer, fixture.CommentText, "Exif", "http://ns.adobe.com", "ICC_PROFILE", "Photoshop", "Adobe", "PK\x03\x04"} {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("output contains %q", s)
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("out-%d-%s.jpg", maxSide, c.Name))
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
		outputs[p] = c.Name
	}
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, _, err := decode.Decode(context.Background(), b, decode.DefaultLimits(), 0)
	if err != nil {
		t.Fatalf("decode output: %v", err)
	}
	return img
}

// The shared real camera photos carry GPS (about 37°19'N 121°56'W), make
// and model; their outputs carry nothing.
func TestSanitizeSharedPhotos(t *testing.T) {
	dir := filepath.Join(testenv.SharedTestdata(t), "photos")
	files, _ := filepath.Glob(filepath.Join(dir, "sample*.jpg"))
	testenv.Require(t, len(files) == 6, "want 6 sample photos in %s, found %d", dir, len(files))
	out := t.TempDir()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := inspect.Scan(data)
			if err != nil || !r.Has(inspect.GPS) || !r.Has(inspect.EXIF) || !r.Has(inspect.CameraInfo) {
				t.Fatalf("input should carry EXIF with GPS and camera: %v %v", r.Kinds(), err)
			}
			if useExifTool() {
				tags := testenv.ExifTool(t, f)
				for _, k := range []string{"EXIF:GPSLatitude", "EXIF:Make", "EXIF:Model"} {
					if tags[k] == nil {
						t.Fatalf("exiftool does not show %s in the input", k)
					}
				}
			}
			clean, img, _, err := sanitize(data, decode.DefaultLimits(), 2048)
			if err != nil {
				t.Fatal(err)
			}
			if img.Rect.Dx() != 1920 {
				t.Errorf("width %d, want 1920 (not enlarged)", img.Rect.Dx())
			}
			if err := encode.VerifyClean(clean); err != nil {
				t.Error(err)
			}
			if r, _ := inspect.Scan(clean); len(r.Findings) > 0 {
				t.Errorf("Scan of output: %v", r.Findings)
			}
			if useExifTool() {
				p := filepath.Join(out, filepath.Base(f))
				os.WriteFile(p, clean, 0o644)
				if bad := testenv.UncleanExifToolKeys(testenv.ExifTool(t, p)); len(bad) > 0 {
					t.Errorf("exiftool shows in the output: %v", bad)
				}
			}
		})
	}
}

// Bad inputs are refused with an InputError whose reason a person can act
// on, and that does not name the file.
func TestBadInputs(t *testing.T) {
	for _, c := range fixture.Bad() {
		t.Run(c.Name, func(t *testing.T) {
			_, _, _, err := sanitize(c.Data, decode.DefaultLimits(), 2048)
			if err == nil {
				t.Fatal("accepted")
			}
			if !decode.IsInputError(err) {
				t.Fatalf("%v (%T) is not an InputError", err, err)
			}
			var ie *decode.InputError
			errors.As(err, &ie)
			if !strings.Contains(ie.Reason, c.Reason) {
				t.Errorf("reason %q, want it to contain %q", ie.Reason, c.Reason)
			}
			if strings.Contains(ie.Reason, c.Name) || strings.Contains(err.Error(), c.Name) {
				t.Errorf("reason names the file: %q", err)
			}
		})
	}
}
