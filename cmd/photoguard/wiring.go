package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/detect/yunet"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target/open"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/mask"
)

// resources is what a run opens once, at start, and closes once: the
// journal, the protected store, the face models (dlib's recognisers, one per
// worker, and the finder) and the targets. Pipelines are built over them
// without I/O, so a configuration reload builds a new pipeline over the same
// resources; what they were opened with is restart-only
// (config.RestartOnly).
type resources struct {
	journal  *journal.Journal
	store    *consent.Store
	detector *dlib.Detector
	finder   analyze.Finder
	targets  map[string]pipeline.Target
	// ledger and audit are the publication ledger and the audit log (nil
	// in a dry run, which records nothing).
	ledger  pipeline.Ledger
	audit   pipeline.Auditor
	closers []func() error
}

// openResources opens what a run to targets needs. A dry run opens no target
// and only reads the journal (journal.ReadOnly: what was published already
// is a duplicate, not "would be published").
func openResources(cfg *config.Config, targets []string, dryRun bool) (res *resources, err error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	r := &resources{targets: map[string]pipeline.Target{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if !dryRun {
		for _, name := range targets {
			tg, err := openTarget(name, cfg.Targets[name])
			if err != nil {
				return nil, err
			}
			r.targets[name] = tg
		}
	}
	if dryRun {
		r.journal = journal.ReadOnly(cfg.StateDir)
	} else {
		if r.journal, err = journal.Open(cfg.StateDir); err != nil {
			return nil, err
		}
		r.closers = append(r.closers, r.journal.Close)
	}
	if r.store, err = openStore(cfg); err != nil {
		return nil, err
	}
	if r.ledger, r.audit, err = pipelineRecords(cfg, dryRun); err != nil {
		return nil, err
	}
	if r.detector, err = newDetector(cfg); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, r.detector.Close)
	if cfg.Faces.Finder == "yunet" {
		yn, err := yunet.New(yunet.Config{ModelsDir: cfg.ModelsDir})
		if err != nil {
			return nil, fmt.Errorf("%w\n(scripts/setup.sh installs it into models_dir)", err)
		}
		r.finder = yunet.NewFinder(yn)
		r.closers = append(r.closers, yn.Close)
	}
	return r, nil
}

// Close closes everything opened, last opened first.
func (r *resources) Close() error {
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		errs = append(errs, r.closers[i]())
	}
	r.closers = nil
	return errors.Join(errs...)
}

// runMode is what differs between the daemon and a batch run; everything
// else comes from the configuration.
type runMode struct {
	targets []string
	wipe    bool
	dryRun  bool
	batch   bool
}

// stack is a pipeline with the resources it was built over.
type stack struct {
	*resources
	p *pipeline.Pipeline
}

// openPipeline opens the resources of a run and builds its pipeline.
func openPipeline(cfg *config.Config, log *slog.Logger, m runMode) (*stack, error) {
	res, err := openResources(cfg, m.targets, m.dryRun)
	if err != nil {
		return nil, err
	}
	p, err := res.pipeline(cfg, log, m)
	if err != nil {
		res.Close()
		return nil, err
	}
	return &stack{res, p}, nil
}

// pipeline builds a pipeline from cfg over the resources: the one function
// that maps the configuration onto the pipeline's options. It does no I/O.
func (r *resources) pipeline(cfg *config.Config, log *slog.Logger, m runMode) (*pipeline.Pipeline, error) {
	var dests []*pipeline.Destination
	for _, name := range m.targets {
		out := cfg.OutputOf(name)
		dests = append(dests, &pipeline.Destination{Name: name, Channel: cfg.Targets[name].Channel, Target: r.targets[name],
			MaxSide: out.MaxSide, Quality: out.Quality})
	}
	if err := staleModels(r.store.Snapshot(), r.detector.ModelID()); err != nil {
		log.Error("every photo will be held until this is fixed", "err", err)
	}
	engine, err := faceAnalysis(cfg, r)
	if err != nil {
		return nil, err
	}
	giveUp := cfg.Watch.GiveUp
	if m.batch {
		// A batch runs over a folder that is complete: a file that does not
		// decode once it has settled is broken, not still arriving.
		giveUp = cfg.Watch.Settle
	}
	return pipeline.New(pipeline.Options{
		StateDir:     cfg.StateDir,
		Destinations: dests,
		Categories:   detect.NewCategories(cfg.Categories.Reject),
		Limits: decode.Limits{
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
		Journal:      r.journal,
		Ledger:       r.ledger,
		Audit:        r.audit,
		Faces: &pipeline.FaceOptions{
			// Safe for concurrent use: dlib lends each call one of its
			// Workers recognisers.
			Detector: engine,
			Model:    r.detector.ModelID(),
			// A fresh view per photo: a change by another process applies
			// from the next photo.
			// The corrections (correct --not) of the model in use apply.
			Consent: func() pipeline.Consent { return r.store.CurrentCorrected(r.detector.ModelID()) },
			Match:   matchConfig(cfg),
			Policy:  detect.Policy(cfg.Faces.Policy),
			Redact: mask.Options{
				Mode:      mask.Mode(cfg.Faces.Redact.Mode),
				Shape:     mask.Shape(cfg.Faces.Redact.Shape),
				MaskScale: cfg.Faces.Redact.MaskScale,
			},
		},
		Review: reviewSink(cfg, m),
		Video:  videoOptions(cfg),
		Log:    log,
	})
}

// dlibConfig maps the faces settings onto the detector's.
// faceAnalysis builds the face analysis a pipeline runs every photo through:
// the finder and dlib's recognisers (detect/analyze). A variable for the
// tests of what does not depend on faces (what a published file carries),
// which replace it with an analysis that finds none.
var faceAnalysis = func(cfg *config.Config, r *resources) (pipeline.FaceDetector, error) {
	return analyze.New(analyzeConfig(cfg), r.finder, r.detector)
}

func dlibConfig(cfg *config.Config) dlib.Config {
	return dlib.Config{
		ModelsDir:  cfg.ModelsDir,
		Detector:   cfg.Faces.Detector,
		MaxSide:    cfg.Faces.DetectMaxSide,
		Upsample:   cfg.Faces.Upsample,
		CNNMaxSide: cfg.Faces.CNNMaxSide,
		Workers:    cfg.Workers,
		// The recogniser's share of a worker's memory budget.
		MemoryBytes: int64(cfg.Faces.MemoryMB) << 20,
	}
}

// analyzeConfig maps the faces settings onto the analysis's.
func analyzeConfig(cfg *config.Config) analyze.Config {
	return analyze.Config{
		CoveragePx: float64(cfg.Faces.CoveragePx),
		MinFacePx:  float64(cfg.Faces.MinFacePx),
		TimeBudget: cfg.Faces.TimeBudget,
		Normalize:  cfg.Faces.Normalize,
	}
}

// newDetector loads the dlib models (a second or two).
func newDetector(cfg *config.Config) (*dlib.Detector, error) {
	d, err := dlib.New(dlibConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("face detector: %w\n(scripts/setup.sh installs the models into models_dir)", err)
	}
	return d, nil
}

func matchConfig(cfg *config.Config) detect.MatchConfig {
	return detect.MatchConfig{Threshold: cfg.Faces.Threshold, Margin: cfg.Faces.Margin, MinFacePx: cfg.Faces.MinFacePx}
}

// openTarget opens the configured target name (pipeline/target/open knows
// the types).
func openTarget(name string, t config.Target) (pipeline.Target, error) {
	return open.New(t.Options(name))
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
		p, local := localFolder(cfg, t)
		if !local {
			continue
		}
		if within(p, in) || within(in, p) {
			return fmt.Errorf("target %s (%s) and the photo folder (%s) overlap; keep them apart", t, p, in)
		}
	}
	return nil
}

// localFolder is the folder on this machine that target name publishes
// into, for the checks that keep the inbox, the state folder, review pages
// and the targets apart; a network target's path is on its server (ok is
// false then).
func localFolder(cfg *config.Config, name string) (string, bool) {
	t := cfg.Targets[name]
	if (t.Type != "" && t.Type != "dir") || t.Path == "" {
		return "", false
	}
	return t.Path, true
}
