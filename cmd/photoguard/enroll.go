package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact"
)

type enrollFlags struct {
	dir    string
	list   bool
	remove bool
	wipe   bool
	force  bool
}

func enrollCmd() *cobra.Command {
	var f enrollFlags
	cmd := &cobra.Command{
		Use:   "enroll [ID PHOTO...]",
		Short: "Enroll a pupil (or staff member) from reference photos",
		Long: `Compute face descriptors from reference photos of one person and keep them,
encrypted, in the protected store. Each reference photo must show exactly one
face (a school portrait or a close crop). Several photos per person help;
they are kept side by side.

  photoguard enroll 100231 portret-2025.jpg portret-2024.jpg
  photoguard enroll --dir enroll/        (enroll/<id>/*.jpg for everyone)
  photoguard enroll --list
  photoguard enroll --remove 100231

The person must be in the consent register first (photoguard consent import).
Reference photos may be removed afterwards (--wipe does it once enrolled).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			switch {
			case f.list:
				return enrollList(os.Stdout, cfg)
			case f.remove:
				if len(args) != 1 {
					return errors.New("--remove takes one id")
				}
				store, err := openStore(cfg)
				if err != nil {
					return err
				}
				if err := store.Unenroll(args[0]); err != nil {
					return err
				}
				fmt.Printf("enrolled faces of %s deleted\n", args[0])
				return nil
			case f.dir != "":
				if len(args) != 0 {
					return errors.New("--dir takes no other arguments")
				}
				return enrollDir(cmd.Context(), os.Stdout, cfg, f)
			case len(args) >= 2:
				return enrollPhotos(cmd.Context(), os.Stdout, cfg, args[0], args[1:], f)
			}
			return errors.New("give an id and one or more photos, or --dir, --list or --remove")
		},
	}
	cmd.Flags().StringVar(&f.dir, "dir", "", "enroll everyone from DIR/<id>/*.jpg")
	cmd.Flags().BoolVar(&f.list, "list", false, "show who is enrolled, with how many reference photos")
	cmd.Flags().BoolVar(&f.remove, "remove", false, "delete the enrolled faces of ID")
	cmd.Flags().BoolVar(&f.wipe, "wipe", false, "remove the reference photos once enrolled")
	cmd.Flags().BoolVar(&f.force, "force", false, "enroll even when a photo looks like someone else who is enrolled")
	addEnrollFrom(cmd) // --from PHOTO --face N (enroll_from.go)
	return cmd
}

// enroller computes reference descriptors with the same detector and
// decoder the pipeline uses.
type enroller struct {
	cfg *config.Config
	det interface {
		Detect(ctx context.Context, img image.Image) ([]detect.Face, error)
	}
	model string // the detector's dlib.ModelID, recorded with each reference
	store *consent.Store
	close func()
}

func newEnroller(cfg *config.Config) (*enroller, error) {
	store, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	det, err := newDetector(cfg)
	if err != nil {
		return nil, err
	}
	return &enroller{cfg: cfg, det: det, model: det.ModelID(), store: store, close: func() { det.Close() }}, nil
}

// faces reads a photo as the pipeline does and returns its faces and the
// sha256 of the file.
func (e *enroller) faces(ctx context.Context, path string) ([]detect.Face, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	lim := redact.Limits{MaxFileBytes: int64(e.cfg.Limits.MaxFileMB) << 20, MaxSide: e.cfg.Limits.MaxSide,
		MaxPixels: e.cfg.Limits.MaxPixels, Timeout: e.cfg.Limits.DecodeTimeout}
	img, _, err := redact.Decode(ctx, data, lim, e.cfg.Output.MaxSide)
	if err != nil {
		return nil, "", err
	}
	faces, err := e.det.Detect(ctx, img)
	if err != nil {
		return nil, "", err
	}
	if len(faces) == 0 {
		// Tight crops (a face filling the picture) need room around the
		// face for the detector.
		faces, err = e.det.Detect(ctx, pad(img))
		if err != nil {
			return nil, "", err
		}
	}
	return faces, hex.EncodeToString(sum[:]), nil
}

// reference reads one reference photo and returns its single face.
func (e *enroller) reference(ctx context.Context, path string) (consent.Reference, error) {
	faces, sha, err := e.faces(ctx, path)
	if err != nil {
		return consent.Reference{}, err
	}
	switch {
	case len(faces) == 0:
		return consent.Reference{}, errors.New("no face found: use a photo where the face is clearly visible")
	case len(faces) > 1:
		return consent.Reference{}, fmt.Errorf("%d faces found: use a photo with only this person", len(faces))
	}
	return consent.Reference{Descriptor: faces[0].Descriptor, SourceSHA256: sha, AddedAt: time.Now().UTC(), Model: e.model}, nil
}

// pad puts the image in the middle of a grey canvas twice its size.
func pad(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()*2, b.Dy()*2))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
	draw.Draw(out, b.Sub(b.Min).Add(image.Pt(b.Dx()/2, b.Dy()/2)), img, b.Min, draw.Src)
	return out
}

// lookalike returns the enrolled person other than id whom d matches, if
// any: a sign that the photo is of someone else, or that two pupils are hard
// to tell apart.
func (e *enroller) lookalike(id string, d detect.Descriptor) (string, float64) {
	snap := e.store.Snapshot()
	var people []detect.Person
	for _, p := range snap.People() {
		if p.ID == id {
			continue
		}
		var ds []detect.Descriptor
		for _, r := range snap.References(p.ID) {
			if r.Model == e.model { // other models' descriptors are not comparable
				ds = append(ds, r.Descriptor)
			}
		}
		if len(ds) > 0 {
			people = append(people, detect.Person{ID: p.ID, Descriptors: ds})
		}
	}
	m := detect.MatchFaces([]detect.Face{{Rect: image.Rect(0, 0, 1000, 1000), Descriptor: d}}, people,
		detect.MatchConfig{Threshold: e.cfg.Faces.Threshold})
	if len(m[0].Nearest) > 0 && m[0].Nearest[0].Distance <= e.cfg.Faces.Threshold {
		return m[0].Nearest[0].ID, m[0].Nearest[0].Distance
	}
	return "", 0
}

func (e *enroller) enroll(ctx context.Context, w io.Writer, id string, photos []string, f enrollFlags) (int, error) {
	if _, ok := e.store.Snapshot().Person(id); !ok {
		return 0, fmt.Errorf("%s is not in the consent register: import the register first (photoguard consent import)", id)
	}
	var refs []consent.Reference
	var used []string
	failed := 0
	for _, p := range photos {
		ref, err := e.reference(ctx, p)
		if err != nil {
			fmt.Fprintf(w, "  %s: not used: %v\n", p, err)
			failed++
			continue
		}
		if other, dist := e.lookalike(id, ref.Descriptor); other != "" && !f.force {
			fmt.Fprintf(w, "  %s: not used: the face matches %s, who is enrolled already (distance %.2f); check the photo, or use --force\n", p, other, dist)
			failed++
			continue
		}
		refs = append(refs, ref)
		used = append(used, p)
	}
	if len(refs) == 0 {
		return failed, fmt.Errorf("%s: no usable reference photo", id)
	}
	replaced := otherModel(e.store.Snapshot().References(id), e.model)
	if err := e.store.Enroll(id, refs); err != nil {
		return failed, err
	}
	fmt.Fprintf(w, "%s: enrolled from %s\n", id, plural(len(refs), "photo"))
	if replaced > 0 {
		fmt.Fprintf(w, "  %s made with other face model files replaced\n", plural(replaced, "reference"))
	}
	if f.wipe {
		for _, p := range used {
			if err := os.Remove(p); err != nil {
				fmt.Fprintf(w, "  %s: could not remove: %v\n", p, err)
			}
		}
	}
	return failed, nil
}

// otherModel counts the references made with other model files than model.
func otherModel(refs []consent.Reference, model string) int {
	n := 0
	for _, r := range refs {
		if r.Model != model {
			n++
		}
	}
	return n
}

func enrollPhotos(ctx context.Context, w io.Writer, cfg *config.Config, id string, photos []string, f enrollFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e, err := newEnroller(cfg)
	if err != nil {
		return err
	}
	defer e.close()
	failed, err := e.enroll(ctx, w, id, photos, f)
	if err != nil {
		return err
	}
	if failed > 0 {
		return exitError{exitAttention}
	}
	return nil
}

// enrollDir enrolls everyone from DIR/<id>/*.
func enrollDir(ctx context.Context, w io.Writer, cfg *config.Config, f enrollFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return err
	}
	e, err := newEnroller(cfg)
	if err != nil {
		return err
	}
	defer e.close()
	problems := 0
	for _, ent := range entries {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		var photos []string
		files, _ := os.ReadDir(filepath.Join(f.dir, ent.Name()))
		for _, file := range files {
			if !file.IsDir() && !pipeline.Ignored(file.Name()) {
				photos = append(photos, filepath.Join(f.dir, ent.Name(), file.Name()))
			}
		}
		if len(photos) == 0 {
			continue
		}
		failed, err := e.enroll(ctx, w, ent.Name(), photos, f)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", ent.Name(), err)
			problems++
		}
		problems += failed
	}
	if problems > 0 {
		return exitError{exitAttention}
	}
	return nil
}

func enrollList(w io.Writer, cfg *config.Config) error {
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	entries, err := store.List()
	if err != nil {
		return err
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].ID < entries[b].ID })
	// Which references were made with other model files than models_dir's?
	// (Hashing the models takes a moment; without them the check is skipped.)
	model, modelErr := dlib.ModelID(cfg.ModelsDir)
	snap := store.Snapshot()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFIRST NAME\tGROUP\tREFERENCE PHOTOS")
	enrolled, missing, stalePeople := 0, 0, 0
	for _, e := range entries {
		if e.References == 0 {
			missing++
			continue
		}
		enrolled++
		note := ""
		if modelErr == nil {
			if stale := otherModel(snap.References(e.ID), model); stale > 0 {
				stalePeople++
				note = fmt.Sprintf(" (%d made with other model files: enroll again)", stale)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d%s\n", e.ID, e.FirstName, e.Group, e.References, note)
	}
	tw.Flush()
	fmt.Fprintf(w, "%s enrolled; %s in the register not enrolled (they are always redacted under the consent policy)\n",
		plural(enrolled, "person"), plural(missing, "person"))
	switch {
	case modelErr != nil:
		fmt.Fprintf(w, "could not check which face model the references were made with: %v\n", modelErr)
	case stalePeople > 0:
		fmt.Fprintf(w, "%s must be enrolled again: the face model files changed since; until then every photo is held\n",
			plural(stalePeople, "person"))
	}
	return nil
}
