package main

import (
	"fmt"
	"os"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/detect/blazeface"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact"
)

// openStore opens the protected store under state_dir with its key.
func openStore(cfg *config.Config) (*consent.Store, error) {
	key, opts, err := storeKey(cfg)
	if err != nil {
		return nil, err
	}
	st, err := consent.Open(cfg.StateDir, key, opts...)
	if err != nil {
		return nil, fmt.Errorf("consent store: %w", err)
	}
	return st, nil
}

// storeKey loads the store's key and its options from the configuration:
// the school year, the audit log its changes are recorded in, and how long
// the backups made before an import are kept.
func storeKey(cfg *config.Config) (consent.Key, []consent.Option, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return consent.Key{}, nil, fmt.Errorf("state_dir: %w", err)
	}
	key, err := consent.LoadKey(cfg.StateDir)
	if err != nil {
		return consent.Key{}, nil, fmt.Errorf("consent store key: %w", err)
	}
	m, d, err := cfg.Consent.SchoolYearStartMD()
	if err != nil {
		return consent.Key{}, nil, err
	}
	log, err := audit.Open(cfg.StateDir, audit.Options{})
	if err != nil {
		return consent.Key{}, nil, err
	}
	return key, []consent.Option{consent.WithSchoolYearStart(m, d), consent.WithAudit(log),
		consent.WithBackupAge(time.Duration(cfg.Consent.BackupDays) * 24 * time.Hour)}, nil
}

// dlibConfig maps the faces settings onto the detector's.
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

// newEngine builds the face analysis around the dlib detector and the
// configured finder.
func newEngine(cfg *config.Config, det *dlib.Detector) (*analyze.Engine, error) {
	var finder analyze.Finder
	switch cfg.Faces.Finder {
	case "none":
	case "blazeface":
		bf, err := blazeface.New(blazeface.Config{ModelsDir: cfg.ModelsDir, Threshold: blazeface.FinderThreshold})
		if err != nil {
			return nil, fmt.Errorf("face finder: %w\n(scripts/setup.sh installs it into models_dir)", err)
		}
		finder = blazeface.NewFinder(bf)
	default:
		return nil, fmt.Errorf("faces.finder %q is not blazeface or none", cfg.Faces.Finder)
	}
	return analyze.New(analyze.Config{
		CoveragePx: float64(cfg.Faces.CoveragePx),
		MinFacePx:  float64(cfg.Faces.MinFacePx),
		TimeBudget: cfg.Faces.TimeBudget,
		Normalize:  cfg.Faces.Normalize,
		// Boxes the finder is unsure of are redacted without asking dlib
		// (describing one costs 20-300 ms; the crowds have dozens).
		DescribeScore: 0.5,
	}, finder, det)
}

// newDetector loads the dlib models (a second or two).
func newDetector(cfg *config.Config) (*dlib.Detector, error) {
	d, err := dlib.New(dlibConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("face detector: %w\n(scripts/setup.sh installs the models into models_dir)", err)
	}
	return d, nil
}

// faceOptions builds the pipeline's face settings around a detector and the
// store.
func faceOptions(cfg *config.Config, det *dlib.Detector, store *consent.Store) (*pipeline.FaceOptions, error) {
	engine, err := newEngine(cfg, det)
	if err != nil {
		return nil, err
	}
	dets := make([]pipeline.FaceDetector, cfg.Workers)
	for i := range dets {
		dets[i] = engine // safe for concurrent use: dlib.Detector runs Workers calls at once
	}
	return &pipeline.FaceOptions{
		Detectors: dets,
		Model:     det.ModelID(),
		// A fresh view per photo: a change by another process applies
		// from the next photo.
		Consent: func() pipeline.Consent { return store.Current() },
		Match:   matchConfig(cfg),
		Policy:  detect.Policy(cfg.Faces.Policy),
		Redact: redact.RedactOptions{
			Mode:      redact.Mode(cfg.Faces.Redact.Mode),
			Shape:     redact.Shape(cfg.Faces.Redact.Shape),
			MaskScale: cfg.Faces.Redact.MaskScale,
		},
	}, nil
}

func matchConfig(cfg *config.Config) detect.MatchConfig {
	return detect.MatchConfig{Threshold: cfg.Faces.Threshold, Margin: cfg.Faces.Margin, MinFacePx: cfg.Faces.MinFacePx}
}

// staleModels is pipeline.StaleModels, for the commands that report it
// (status, tune, the daemon's start).
func staleModels(snap *consent.Snapshot, model string) error {
	return pipeline.StaleModels(snap, model)
}

// The store's snapshot is the pipeline's view of consent.
var _ pipeline.Consent = (*consent.Snapshot)(nil)
