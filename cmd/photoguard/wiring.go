package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/redact"
)

// runMode is what differs between the daemon and a batch run; everything
// else comes from the configuration, through this one function.
type runMode struct {
	targets []string
	wipe    bool
	dryRun  bool
	batch   bool
	// journal, detector and store, if set, are used instead of opening
	// new ones (a configuration reload).
	journal  *journal.Journal
	detector *dlib.Detector
	store    *consent.Store
}

// stack is a pipeline with what it holds open.
type stack struct {
	p        *pipeline.Pipeline
	journal  *journal.Journal
	detector *dlib.Detector
	store    *consent.Store
	// owned says which of them this stack opened (and closes).
	ownJournal, ownDetector bool
}

func (s *stack) Close() {
	if s.journal != nil && s.ownJournal {
		s.journal.Close()
	}
	if s.detector != nil && s.ownDetector {
		s.detector.Close()
	}
}

func buildPipeline(cfg *config.Config, log *slog.Logger, m runMode) (*stack, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	st := &stack{}
	var dests []*pipeline.Destination
	for _, name := range m.targets {
		t := cfg.Targets[name]
		d := &pipeline.Destination{Name: name, Channel: t.Channel}
		if !m.dryRun {
			tg, err := openTarget(name, t)
			if err != nil {
				return nil, err
			}
			d.Target = tg
		}
		dests = append(dests, d)
	}
	st.journal = m.journal
	if st.journal == nil && m.dryRun {
		// A dry run only reads it: what was published already is a
		// duplicate, not "would be published".
		st.journal = journal.ReadOnly(cfg.StateDir)
	}
	if st.journal == nil && !m.dryRun {
		j, err := journal.Open(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		st.journal, st.ownJournal = j, true
	}
	st.store = m.store
	if st.store == nil {
		store, err := openStore(cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		st.store = store
	}
	st.detector = m.detector
	if st.detector == nil {
		det, err := newDetector(cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		st.detector, st.ownDetector = det, true
	}
	if err := staleModels(st.store.Snapshot(), st.detector.ModelID()); err != nil {
		log.Error("every photo will be held until this is fixed", "err", err)
	}
	faces, err := faceOptions(cfg, st.detector, st.store)
	if err != nil {
		st.Close()
		return nil, err
	}
	giveUp := cfg.Watch.GiveUp
	if m.batch {
		// A batch runs over a folder that is complete: a file that does not
		// decode once it has settled is broken, not still arriving.
		giveUp = cfg.Watch.Settle
	}
	p, err := pipeline.New(pipeline.Options{
		StateDir:     cfg.StateDir,
		Destinations: dests,
		Categories:   detect.NewCategories(cfg.Categories.Reject),
		Limits: redact.Limits{
			MaxFileBytes: int64(cfg.Limits.MaxFileMB) << 20,
			MaxSide:      cfg.Limits.MaxSide,
			MaxPixels:    cfg.Limits.MaxPixels,
			Timeout:      cfg.Limits.DecodeTimeout,
		},
		MaxSide:         cfg.Output.MaxSide,
		AnalysisMaxSide: cfg.Faces.AnalysisMaxSide,
		Quality:         cfg.Output.Quality,
		Wipe:            m.wipe,
		// Notes are for the synced inbox of the service, not for a
		// folder someone runs a batch over by hand.
		TeacherNotes: cfg.TeacherNotes && !m.batch,
		DryRun:       m.dryRun,
		Workers:      cfg.Workers,
		Settle:       cfg.Watch.Settle,
		GiveUp:       giveUp,
		Journal:      st.journal,
		Faces:        faces,
		Review:       reviewSink(cfg, m), // review.go
		Log:          log,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	st.p = p
	return st, nil
}

// openTarget opens the configured target name: the one place that knows
// the target types.
func openTarget(name string, t config.Target) (pipeline.Target, error) {
	switch t.Type {
	case "dir":
		tg, err := dir.New(t.Path)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		return tg, nil
	}
	return nil, fmt.Errorf("target %s: type %q is not supported", name, t.Type)
}

// checkFolders refuses a run whose input folder holds photoguard's own
// folders (or the other way round): published photos would be taken as
// inputs again, or inputs published in place. (How the configured inbox,
// state_dir and targets lie to each other config.Validate checks, for
// `config check` and every start alike; this is for a batch's folder.)
func checkFolders(cfg *config.Config, in string, targets []string) error {
	in, err := filepath.Abs(in)
	if err != nil {
		return err
	}
	within := config.Within
	if within(cfg.StateDir, in) {
		return fmt.Errorf("state_dir (%s) is inside the photo folder (%s); keep them apart", cfg.StateDir, in)
	}
	for _, t := range targets {
		if p := cfg.Targets[t].Path; within(p, in) || within(in, p) {
			return fmt.Errorf("target %s (%s) and the photo folder (%s) overlap; keep them apart", t, p, in)
		}
	}
	return nil
}
