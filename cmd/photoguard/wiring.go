package main

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/detect/yunet"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/state"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/open"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/mask"
)

// resources is what a run opens once, at start, and closes once: the face
// models (dlib's recognisers, one per worker, and the finder), the targets
// and the store of photos that wait for approval, over the house it was
// given (the journal, the consent store, and unless it is a dry run the
// ledger and the audit log). Pipelines are built over them without I/O, so
// a configuration reload builds a new pipeline over the same resources;
// what they were opened with is restart-only (config.RestartOnly).
type resources struct {
	house      *state.House
	journal    *journal.Journal
	store      *consent.Store
	recognizer *dlib.Recognizer
	finder     analyze.Finder
	targets    map[string]target.Target
	// approvals keeps the photos that wait for the direction's approval
	// (nil in a dry run, or when no target needs approval).
	approvals pipeline.Approvals
	// ledger and audit are the publication ledger and the audit log (nil
	// in a dry run, which records nothing).
	ledger  pipeline.Ledger
	audit   pipeline.Auditor
	closers []func() error
}

// openResourcesIn opens the house in mode and the resources over it; Close
// closes both, the house last.
func openResourcesIn(cfg *config.Config, mode state.Mode, targets []string) (*resources, error) {
	h, err := openHouse(cfg, mode)
	if err != nil {
		return nil, err
	}
	r, err := resourcesOver(cfg, h, targets)
	if err != nil {
		h.Close()
		return nil, err
	}
	r.closers = append([]func() error{h.Close}, r.closers...)
	return r, nil
}

// resourcesOver opens what a run to targets needs over house h, which stays
// the caller's to close. A dry run (a house that does not write) opens no
// target and only reads the journal: what was published already is a
// duplicate, not "would be published".
func resourcesOver(cfg *config.Config, h *state.House, targets []string) (res *resources, err error) {
	r := &resources{house: h, targets: map[string]target.Target{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if h.Mode.Writes() {
		for _, name := range targets {
			tg, err := openTarget(name, cfg.Targets[name])
			if err != nil {
				return nil, err
			}
			r.targets[name] = tg
		}
		led, err := h.Ledger()
		if err != nil {
			return nil, err
		}
		aud, err := h.Audit()
		if err != nil {
			return nil, err
		}
		r.ledger, r.audit = led, aud
	}
	if r.journal, err = h.Journal(); err != nil {
		return nil, err
	}
	if r.store, err = h.Store(); err != nil {
		return nil, err
	}
	if h.Mode.Writes() && needsApproval(cfg) {
		s, err := openApprovals(h)
		if err != nil {
			return nil, err
		}
		r.approvals = s
	}
	if r.recognizer, err = newRecognizer(cfg); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, r.recognizer.Close)
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
	// service opens the house as the service (holding the run lock).
	service bool
}

// house is the mode the run opens the state folder in.
func (m runMode) house() state.Mode {
	if m.service {
		return state.Service
	}
	return modeOf(m.dryRun)
}

// stack is a pipeline with the resources it was built over.
type stack struct {
	*resources
	p *pipeline.Pipeline
}

// openPipeline opens the resources of a run and builds its pipeline.
func openPipeline(cfg *config.Config, log *slog.Logger, m runMode) (*stack, error) {
	res, err := openResourcesIn(cfg, m.house(), m.targets)
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
	m.dryRun = !r.house.Mode.Writes() // the house decides
	if err := staleModels(r.store.Snapshot(), r.recognizer.ModelID()); err != nil {
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
		StateDir:        r.house.Dir,
		Destinations:    destinations(cfg, m.targets, r.targets),
		Categories:      detect.NewCategories(cfg.Categories.Reject),
		Limits:          decodeLimits(cfg.Limits),
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
			Analyzer: engine,
			Model:    r.recognizer.ModelID(),
			// A fresh view per photo: a change by another process applies
			// from the next photo.
			// The corrections (correct --not) of the model in use apply.
			Consent: func() pipeline.Consent { return r.store.CurrentCorrected(r.recognizer.ModelID()) },
			Match:   matchConfig(cfg),
			Policy:  detect.Policy(cfg.Faces.Policy),
			Redact: mask.Options{
				Mode:      mask.Mode(cfg.Faces.Redact.Mode),
				Shape:     mask.Shape(cfg.Faces.Redact.Shape),
				MaskScale: cfg.Faces.Redact.MaskScale,
			},
		},
		Approvals:       r.approvals,
		IndividualShare: cfg.Individual.MinShare,
		Review:          reviewSink(cfg, m),
		Video:           videoOptions(cfg),
		Log:             log,
	})
}

// decodeLimits maps the limits settings onto the decoder's: the one mapping,
// for the pipeline and for enroll alike. (config cannot return a
// decode.Limits itself: redact/decode links libjpeg and libheif.)
func decodeLimits(l config.Limits) decode.Limits {
	return decode.Limits{
		MaxFileBytes: int64(l.MaxFileMB) << 20,
		MaxSide:      l.MaxSide,
		MaxPixels:    l.MaxPixels,
		Timeout:      l.DecodeTimeout,
	}
}

// destinations are the configured targets names, each with its channel,
// output and the rules for external channels (issue 20): the direction's
// approval and the individual rule.
func destinations(cfg *config.Config, names []string, targets map[string]target.Target) []*pipeline.Destination {
	var dests []*pipeline.Destination
	for _, name := range names {
		out := cfg.OutputOf(name)
		t := cfg.Targets[name]
		dests = append(dests, &pipeline.Destination{Name: name, Channel: t.Channel, Target: targets[name],
			MaxSide: out.MaxSide, Quality: out.Quality,
			Approval:   t.Approval == config.ApprovalDirection,
			ClosedOnly: t.Individual == config.IndividualClosedOnly})
	}
	return dests
}

// needsApproval reports whether a target needs the direction's approval.
func needsApproval(cfg *config.Config) bool {
	for _, t := range cfg.Targets {
		if t.Approval == config.ApprovalDirection {
			return true
		}
	}
	return false
}

// faceAnalysis builds the face analysis a pipeline runs every photo through:
// the finder and dlib's recognisers (detect/analyze). A variable for the
// tests of what does not depend on faces (what a published file carries),
// which replace it with an analysis that finds none.
var faceAnalysis = func(cfg *config.Config, r *resources) (pipeline.FaceAnalyzer, error) {
	return analyze.New(analyzeConfig(cfg), r.finder, r.recognizer)
}

// dlibConfig maps the faces settings onto dlib's (the recogniser's).
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

// newRecognizer loads the dlib models (a second or two).
func newRecognizer(cfg *config.Config) (*dlib.Recognizer, error) {
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
func openTarget(name string, t config.Target) (target.Target, error) {
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
	return cfg.Targets[name].LocalFolder()
}
