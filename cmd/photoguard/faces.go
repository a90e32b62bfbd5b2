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
		return nil, fmt.Errorf("register: %w", err)
	}
	return st, nil
}

// storeKey loads the store's key and its options from the configuration.
func storeKey(cfg *config.Config) (consent.Key, []consent.Option, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return consent.Key{}, nil, fmt.Errorf("state_dir: %w", err)
	}
	key, err := consent.LoadKey(cfg.StateDir)
	if err != nil {
		return consent.Key{}, nil, fmt.Errorf("register key: %w", err)
	}
	m, d, err := cfg.Consent.SchoolYearStartMD()
	if err != nil {
		return consent.Key{}, nil, err
	}
	return key, []consent.Option{consent.WithSchoolYearStart(m, d)}, nil
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
		Register:  withNegatives(store, det.ModelID(), registerOf(store, det.ModelID())), // corrections (correct.go)
		Match:     matchConfig(cfg),
		Policy:    detect.Policy(cfg.Faces.Policy),
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

// registerOf gives the pipeline a fresh view of the store per photo: a
// change by `consent import` or `enroll` in another process applies from the
// next photo. Checking costs one 44-byte read. model is the ModelID of the
// detector in use: while references made with another model are in the
// store, the view's Err is set and photos are held (staleModels).
func registerOf(store *consent.Store, model string) func() pipeline.Register {
	return func() pipeline.Register {
		if store.Changed() {
			_ = store.Reload() // a failed reload leaves a snapshot with Err set: photos are held
		}
		return snapshot{s: store.Snapshot(), model: model}
	}
}

// staleModels reports reference descriptors in the store that were made
// with another face model than model (dlib.ModelID). Descriptors of two
// models cannot be compared: a pupil enrolled under the old model would not
// be recognised, and under the objections policy a pupil without consent
// would then be shown. So nothing is matched until everyone is enrolled
// again with the models in use.
func staleModels(snap *consent.Snapshot, model string) error {
	stale := 0
	for m, n := range snap.Models() {
		if m != model {
			stale += n
		}
	}
	if stale == 0 {
		return nil
	}
	return fmt.Errorf("%s in the store %s made with other face model files than those in models_dir (model %s): "+
		"enroll everyone again (photoguard enroll --dir …; `photoguard enroll --list` shows who)",
		plural(stale, "enrolled reference"), map[bool]string{true: "was", false: "were"}[stale == 1], model)
}

// snapshot adapts a registry snapshot to pipeline.Register.
type snapshot struct {
	s     *consent.Snapshot
	model string
}

func (s snapshot) People() []detect.Person {
	enrolled := s.s.People()
	people := make([]detect.Person, len(enrolled))
	for i, e := range enrolled {
		people[i] = detect.Person{ID: e.ID, Descriptors: e.Descriptors}
	}
	return people
}

func (s snapshot) Consent(id, channel string, now time.Time) (bool, string) {
	ok, why := s.s.Consent(id, channel, now)
	if !ok && why == consent.ReasonNoConsent {
		why = "no consent for " + channel
	}
	return ok, why
}

func (s snapshot) Objections(sha string) []string { return s.s.Objections(sha) }

func (s snapshot) Err() error {
	if err := s.s.Err(); err != nil {
		return err
	}
	return staleModels(s.s, s.model)
}
