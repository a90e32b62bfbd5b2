package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/enroll"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/review"
	"github.com/photoguard/photoguard/redact/decode"
)

// addEnrollFrom adds --from PHOTO --face N to the enroll command: one face
// of a reviewed photo becomes a reference of the pupil.
func addEnrollFrom(cmd *cobra.Command) {
	var from string
	var face int
	cmd.Flags().StringVar(&from, "from", "", "enroll ID from one face of PHOTO (a file, or the photo hash the review page shows); with --face N")
	cmd.Flags().IntVar(&face, "face", 0, "with --from: the face number (1..N, as review and explain number them)")
	inner := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if from == "" && !c.Flags().Changed("face") {
			return inner(c, args)
		}
		if from == "" || face < 1 || len(args) != 1 {
			return errors.New("enroll ID --from PHOTO --face N: give one id, the photo and a face number from 1")
		}
		cfg, err := loadConfig()
		if err != nil {
			return err
		}
		force, _ := c.Flags().GetBool("force")
		return enrollFrom(c.Context(), os.Stdout, cfg, args[0], from, face, force)
	}
}

// reviewedFace is one face of a photo the coordinator reviewed, described
// again.
type reviewedFace struct {
	Descriptor detect.Descriptor
	Model      string
	SHA256     string
	N          int
	// ShownOn are the targets the photo was published to with this face
	// shown, as the review record or the journal tells.
	ShownOn []string
}

// findReviewedFace describes face n of photo: a file (analysed as a run
// would, so the numbering is review's and explain's), or the hash of a photo
// with a review record (described from the record's crop of that face, for
// inputs the daemon has wiped).
func findReviewedFace(ctx context.Context, cfg *config.Config, photo string, n int) (*reviewedFace, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, err := os.Lstat(photo); err == nil {
		return faceFromFile(ctx, cfg, photo, n)
	}
	if _, err := hex.DecodeString(photo); err != nil || len(photo) < 8 {
		return nil, fmt.Errorf("%s: no such file, and not a photo hash from the review page", shown(photo))
	}
	rec, err := review.Find(cfg.StateDir, photo)
	if err != nil {
		return nil, err
	}
	return faceFromRecord(ctx, cfg, rec, n)
}

func faceFromFile(ctx context.Context, cfg *config.Config, photo string, n int) (*reviewedFace, error) {
	abs, err := filepath.Abs(photo)
	if err != nil {
		return nil, err
	}
	log, err := newLogger(slog.LevelWarn)
	if err != nil {
		return nil, err
	}
	st, err := openPipeline(cfg, log, runMode{targets: cfg.TargetNames(), dryRun: true, batch: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	j, jobErr := st.p.Explain(ctx, filepath.Dir(abs), abs)
	if j.SHA256 == "" {
		return nil, fmt.Errorf("%s: %v", shown(photo), jobErr)
	}
	if j.Faces == nil && jobErr != nil {
		return nil, fmt.Errorf("%s: no faces: %v", shown(photo), jobErr)
	}
	if n > len(j.Faces) {
		return nil, fmt.Errorf("%s has %s; there is no face %d", shown(photo), plural(len(j.Faces), "face"), n)
	}
	f := j.Faces[n-1]
	if f.NoDescriptor {
		return nil, fmt.Errorf("%s: face %d was found but is not clear enough to recognise: it cannot be used", shown(photo), n)
	}
	rf := &reviewedFace{Descriptor: f.Descriptor, Model: st.detector.ModelID(), SHA256: j.SHA256, N: n}
	rf.ShownOn = shownOn(cfg, j.SHA256, n, func(target string) bool {
		for _, d := range j.Deliveries {
			if d.Dest.Name == target && n <= len(d.Decisions) {
				return d.Decisions[n-1].Show
			}
		}
		return false
	})
	return rf, nil
}

func faceFromRecord(ctx context.Context, cfg *config.Config, rec *review.Record, n int) (*reviewedFace, error) {
	if n > len(rec.Faces) {
		return nil, fmt.Errorf("photo %s has %s; there is no face %d", rec.Short, plural(len(rec.Faces), "face"), n)
	}
	fr := rec.Faces[n-1]
	if fr.Crop == "" {
		return nil, fmt.Errorf("photo %s: face %d was not clear enough to recognise: it cannot be used", rec.Short, n)
	}
	data, err := rec.Image(fr.Crop)
	if err != nil {
		return nil, err
	}
	img, _, err := decode.Decode(ctx, data, decode.DefaultLimits(), 0)
	if err != nil {
		return nil, fmt.Errorf("photo %s, face %d: %w", rec.Short, n, err)
	}
	det, err := newDetector(cfg)
	if err != nil {
		return nil, err
	}
	defer det.Close()
	faces, err := det.Detect(ctx, img)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		faces, err = det.Detect(ctx, enroll.Pad(img))
		if err != nil {
			return nil, err
		}
		img = enroll.Pad(img)
	}
	// The crop is centred on the face; a neighbour may show at its edge.
	c := image.Pt(img.Rect.Dx()/2, img.Rect.Dy()/2)
	sort.SliceStable(faces, func(a, b int) bool { return centreDist(faces[a].Rect, c) < centreDist(faces[b].Rect, c) })
	if len(faces) == 0 || faces[0].NoDescriptor || centreDist(faces[0].Rect, c) > faces[0].Rect.Dx() {
		return nil, fmt.Errorf("photo %s: face %d could not be described again from the review's copy; use the original file", rec.Short, n)
	}
	rf := &reviewedFace{Descriptor: faces[0].Descriptor, Model: det.ModelID(), SHA256: rec.SHA256, N: n}
	rf.ShownOn = shownOn(cfg, rec.SHA256, n, func(target string) bool {
		for _, t := range rec.Targets {
			if t.Name == target && n <= len(t.Decisions) {
				return t.Decisions[n-1].Show
			}
		}
		return false
	})
	return rf, nil
}

func centreDist(r image.Rectangle, c image.Point) int {
	m := r.Min.Add(r.Max).Div(2)
	dx, dy := m.X-c.X, m.Y-c.Y
	return int(abs(float64(dx)) + abs(float64(dy)))
}

// shownOn lists the targets the journal says the photo is published on and
// where showed(target) says face n is shown.
func shownOn(cfg *config.Config, sha string, n int, showed func(target string) bool) []string {
	rec, err := journal.ReadOnly(cfg.StateDir).Get(sha)
	if err != nil {
		return nil
	}
	var out []string
	for name, d := range rec.Deliveries {
		if d.Published && showed(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// recordCorrection writes a correction into the audit log, by pupil id.
func recordCorrection(cfg *config.Config, rf *reviewedFace, id, detail string) error {
	log, err := audit.Open(cfg.StateDir, audit.Options{})
	if err != nil {
		return err
	}
	return log.Record(audit.Event{Kind: audit.Correction, SHA256: rf.SHA256, Photo: rf.SHA256[:12],
		Pupils: []string{id}, Count: rf.N, Detail: detail})
}

func enrollFrom(ctx context.Context, w io.Writer, cfg *config.Config, id, photo string, n int, force bool) error {
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	if _, ok := store.Snapshot().Person(id); !ok {
		return fmt.Errorf("%s is not in the consent register: import the register first (photoguard consent import)", id)
	}
	rf, err := findReviewedFace(ctx, cfg, photo, n)
	if err != nil {
		return err
	}
	e, err := newEnroller(cfg)
	if err != nil {
		return err
	}
	defer e.close()
	if other, dist := e.Lookalike(store.Snapshot(), id, rf.Descriptor); other != "" && !force {
		return fmt.Errorf("face %d matches %s, who is enrolled already (distance %.2f): check the face number, or use --force", n, other, dist)
	}
	ref := consent.Reference{Descriptor: rf.Descriptor, SourceSHA256: rf.SHA256, AddedAt: time.Now().UTC(), Model: rf.Model}
	if err := store.Enroll(id, []consent.Reference{ref}); err != nil {
		return err
	}
	if err := recordCorrection(cfg, rf, id, "a reviewed face was added as a reference of this pupil (enroll --from)"); err != nil {
		return fmt.Errorf("enrolled, but the audit log could not record it: %w", err)
	}
	refs := len(store.Snapshot().References(id))
	fmt.Fprintf(w, "%s: face %d of photo %s added as a reference (%s now)\n", id, n, rf.SHA256[:12], plural(refs, "reference"))
	fmt.Fprintf(w, "  from the next photo on, faces like it can be matched to %s\n", id)
	return nil
}
