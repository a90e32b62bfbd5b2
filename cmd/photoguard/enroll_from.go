package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/enroll"
	"github.com/photoguard/photoguard/pipeline/review"
	"github.com/photoguard/photoguard/pipeline/state"
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

// findReviewedFace describes face n of photo: a file (analysed as a run
// would, so the numbering is review's and explain's), or the hash of a photo
// with a review record (described from the record's crop of that face, for
// inputs the daemon has wiped).
func findReviewedFace(ctx context.Context, cfg *config.Config, photo string, n int) (*enroll.Reviewed, error) {
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

func faceFromFile(ctx context.Context, cfg *config.Config, photo string, n int) (*enroll.Reviewed, error) {
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
	return enroll.FaceOfJob(cfg.StateDir, j, jobErr, st.recognizer.ModelID(), n, shown(photo))
}

func faceFromRecord(ctx context.Context, cfg *config.Config, rec *review.Record, n int) (*enroll.Reviewed, error) {
	open := func() (enroll.Recognizer, string, func(), error) {
		det, err := newRecognizer(cfg)
		if err != nil {
			return nil, "", nil, err
		}
		return det, det.ModelID(), func() { det.Close() }, nil
	}
	return enroll.FaceOfRecord(ctx, cfg.StateDir, open, rec, n)
}

func enrollFrom(ctx context.Context, w io.Writer, cfg *config.Config, id, photo string, n int, force bool) error {
	h, store, err := openConsent(cfg, state.Write)
	if err != nil {
		return err
	}
	defer h.Close()
	if _, ok := store.Snapshot().Person(id); !ok {
		return fmt.Errorf("%s is not in the consent store: import the consent register first (photoguard consent import)", shown(id))
	}
	rf, err := findReviewedFace(ctx, cfg, photo, n)
	if err != nil {
		return err
	}
	refs, err := enroll.AddReviewed(h.Dir, store, id, rf, cfg.Faces.Threshold, force, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: face %d of photo %s added as a reference (%s now)\n", shown(id), n, rf.SHA256[:12], plural(refs, "reference"))
	fmt.Fprintf(w, "  from the next photo on, faces like it can be matched to %s\n", shown(id))
	return nil
}
