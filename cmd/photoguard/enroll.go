package main

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/photoguard/photoguard/pipeline/enroll"
	"github.com/photoguard/photoguard/pipeline/state"
)

type enrollFlags struct {
	dir    string
	list   bool
	json   bool
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
encrypted, in the consent store. Each reference photo must show exactly one
face (a school portrait or a close crop). Several photos per person help;
they are kept side by side.

  photoguard enroll 100231 portret-2025.jpg portret-2024.jpg
  photoguard enroll --dir enroll/        (enroll/<id>/*.jpg for everyone)
  photoguard enroll --list [--json]
  photoguard enroll --remove 100231

The person must be in the consent store first (photoguard consent import).
Reference photos may be removed afterwards (--wipe does it once enrolled).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch {
			case f.list:
				return enrollListAs(w, cfg, f.json)
			case f.json:
				return errors.New("--json goes with --list")
			case f.remove:
				if len(args) != 1 {
					return errors.New("--remove takes one id")
				}
				return enrollRemove(w, cfg, args[0])
			case f.dir != "":
				if len(args) != 0 {
					return errors.New("--dir takes no other arguments")
				}
				return enrollDir(cmd.Context(), w, cfg, f)
			case len(args) >= 2:
				return enrollPhotos(cmd.Context(), w, cfg, args[0], args[1:], f)
			}
			return errors.New("give an id and one or more photos, or --dir, --list or --remove")
		},
	}
	cmd.Flags().StringVar(&f.dir, "dir", "", "enroll everyone from DIR/<id>/*.jpg")
	cmd.Flags().BoolVar(&f.list, "list", false, "show who is enrolled, with how many reference photos")
	cmd.Flags().BoolVar(&f.json, "json", false, "with --list: print JSON (one array of people) instead of a table")
	cmd.Flags().BoolVar(&f.remove, "remove", false, "delete the enrolled faces of ID")
	cmd.Flags().BoolVar(&f.wipe, "wipe", false, "remove the reference photos once enrolled")
	cmd.Flags().BoolVar(&f.force, "force", false, "enroll even when a photo looks like someone else who is enrolled")
	addEnrollFrom(cmd) // --from PHOTO --face N (enroll_from.go)
	return cmd
}

// enrollRemove deletes the references of id; an id that is not in the
// store, or has none, is an error.
func enrollRemove(w io.Writer, cfg *config.Config, id string) error {
	h, store, err := openConsent(cfg, state.Write)
	if err != nil {
		return err
	}
	defer h.Close()
	n, err := store.Unenroll(id)
	switch {
	case errors.Is(err, consent.ErrNotInStore):
		return fmt.Errorf("%s is not in the consent store: nothing deleted", shown(id))
	case errors.Is(err, consent.ErrNotEnrolled):
		return fmt.Errorf("%s has no enrolled faces: nothing deleted", shown(id))
	case err != nil:
		return err
	}
	fmt.Fprintf(w, "%s of %s deleted\n", plural(n, "enrolled face"), shown(id))
	return nil
}

// enroller is an enroll.Enroller with the recogniser and the store it holds
// open.
type enroller struct {
	*enroll.Enroller
	store *consent.Store
	model string // the recogniser's dlib.ModelID, recorded with each reference
	close func()
}

func newEnroller(cfg *config.Config) (*enroller, error) {
	h, store, err := openConsent(cfg, state.Write)
	if err != nil {
		return nil, err
	}
	det, err := newRecognizer(cfg)
	if err != nil {
		h.Close()
		return nil, err
	}
	e, err := enroll.New(enroll.Config{
		Recognizer: det,
		Model:      det.ModelID(),
		Store:      store,
		Limits:     decodeLimits(cfg.Limits),
		MaxSide:    cfg.Output.MaxSide,
		Threshold:  cfg.Faces.Threshold,
	})
	if err != nil {
		det.Close()
		h.Close()
		return nil, err
	}
	return &enroller{Enroller: e, store: store, model: det.ModelID(), close: func() { det.Close(); h.Close() }}, nil
}

// faces reads the photo at path as the pipeline does and returns its faces
// and the sha256 of the file.
func (e *enroller) faces(ctx context.Context, path string) ([]detect.Face, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	return e.Faces(ctx, data)
}

// enroll enrolls id from photos and prints what became of each; it
// returns how many photos were not used.
func (e *enroller) enroll(ctx context.Context, w io.Writer, id string, paths []string, f enrollFlags) (int, error) {
	var photos []enroll.Photo
	failed := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(w, "  %s: not used: %s\n", shown(p), shown(err.Error()))
			failed++
			continue
		}
		photos = append(photos, enroll.Photo{Name: p, Data: data})
	}
	res, err := e.Enroll(ctx, id, photos, f.force)
	for _, pr := range res.Photos {
		switch {
		case errors.Is(pr.Err, enroll.ErrLookalike):
			fmt.Fprintf(w, "  %s: not used: the face matches %s, who is enrolled already (distance %.2f); check the photo, or use --force\n",
				shown(pr.Name), shown(pr.Lookalike), pr.Distance)
		case pr.Err != nil:
			fmt.Fprintf(w, "  %s: not used: %s\n", shown(pr.Name), shown(pr.Err.Error()))
		case pr.Lookalike != "":
			fmt.Fprintf(w, "  %s: used (--force), although the face matches %s (distance %.2f)\n", shown(pr.Name), shown(pr.Lookalike), pr.Distance)
		}
	}
	failed += res.Failed()
	if err != nil {
		return failed, err
	}
	fmt.Fprintf(w, "%s: enrolled from %s\n", shown(id), plural(res.Used(), "photo"))
	if res.Replaced > 0 {
		fmt.Fprintf(w, "  %s made with other face model files replaced\n", plural(res.Replaced, "reference"))
	}
	if f.wipe {
		for _, pr := range res.Photos {
			if pr.Err != nil {
				continue
			}
			if err := os.Remove(pr.Name); err != nil {
				fmt.Fprintf(w, "  %s: could not remove: %s\n", shown(pr.Name), shown(err.Error()))
			}
		}
	}
	return failed, nil
}

func enrollPhotos(ctx context.Context, w io.Writer, cfg *config.Config, id string, photos []string, f enrollFlags) error {
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
			fmt.Fprintf(w, "%s: %s\n", shown(ent.Name()), shown(err.Error()))
			problems++
		}
		problems += failed
	}
	if problems > 0 {
		return exitError{exitAttention}
	}
	return nil
}

// referenceDates says when the newest and the oldest of refs were enrolled
// ("unknown" for references from before dates were kept), marking one older
// than the reference age, which no longer shows the pupil.
func referenceDates(refs []consent.Reference, now time.Time) (newest, oldest string) {
	var n, o time.Time
	undated := 0
	for _, r := range refs {
		switch {
		case r.AddedAt.IsZero():
			undated++
		case o.IsZero() || r.AddedAt.Before(o):
			o = r.AddedAt
		}
		if r.AddedAt.After(n) {
			n = r.AddedAt
		}
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return "unknown"
		}
		s := t.Format("2006-01-02")
		if t.Before(now.Add(-pipeline.DefaultReferenceAge)) {
			s += " (too old to show)"
		}
		return s
	}
	newest, oldest = day(n), day(o)
	if undated > 0 && !o.IsZero() {
		oldest = "unknown"
	}
	return newest, oldest
}

func enrollList(w io.Writer, cfg *config.Config) error { return enrollListAs(w, cfg, false) }

func enrollListAs(w io.Writer, cfg *config.Config, asJSON bool) error {
	h, store, err := openConsent(cfg, state.ReadOnly)
	if err != nil {
		return err
	}
	defer h.Close()
	entries, err := store.List()
	if err != nil {
		return err
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].ID < entries[b].ID })
	// Which references were made with other model files than models_dir's?
	// (Hashing the models takes a moment; without them the check is skipped.)
	model, modelErr := dlib.ModelID(cfg.ModelsDir)
	snap := store.Snapshot()
	stale := func(id string) (int, bool) {
		if modelErr != nil {
			return 0, false
		}
		return enroll.OtherModel(snap.References(id), model), true
	}
	if asJSON {
		if modelErr != nil {
			return fmt.Errorf("could not check which face model the references were made with: %w", modelErr)
		}
		out := []listedPerson{}
		for _, e := range entries {
			if e.References == 0 {
				continue
			}
			p := listed(e, false)
			n, _ := stale(e.ID)
			p.OtherModel = &n
			out = append(out, p)
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFIRST NAME\tGROUP\tREFERENCE PHOTOS\tNEWEST\tOLDEST")
	enrolled, missing, stalePeople := 0, 0, 0
	for _, e := range entries {
		if e.References == 0 {
			missing++
			continue
		}
		enrolled++
		note := ""
		if n, _ := stale(e.ID); n > 0 {
			stalePeople++
			note = fmt.Sprintf(" (%d made with other model files: enroll again)", n)
		}
		newest, oldest := referenceDates(snap.References(e.ID), time.Now())
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d%s\t%s\t%s\n", shown(e.ID), shown(e.FirstName), shown(e.Group), e.References, note, newest, oldest)
	}
	tw.Flush()
	fmt.Fprintf(w, "%s enrolled; %s in the consent store not enrolled (they are always redacted under the consent policy)\n",
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
