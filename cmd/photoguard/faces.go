package main

import (
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/state"
)

// openHouse opens state_dir in mode: the one way a command opens it
// (pipeline/state). Close it when done.
func openHouse(cfg *config.Config, mode state.Mode) (*state.House, error) {
	m, d, err := cfg.Consent.SchoolYearStartMD()
	if err != nil {
		return nil, err
	}
	return state.Open(cfg.StateDir, mode, state.Options{Consent: []consent.Option{consent.WithSchoolYearStart(m, d),
		consent.WithBackupAge(time.Duration(cfg.Consent.BackupDays) * 24 * time.Hour)}})
}

// modeOf is the mode of a command that changes something, with its
// --dry-run flag: decided here, once.
func modeOf(dryRun bool) state.Mode {
	if dryRun {
		return state.DryRun
	}
	return state.Write
}

// openConsent opens the house in mode with its consent store (read-only
// unless mode writes). Close the house when done.
func openConsent(cfg *config.Config, mode state.Mode) (*state.House, *consent.Store, error) {
	h, err := openHouse(cfg, mode)
	if err != nil {
		return nil, nil, err
	}
	store, err := h.Store()
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return h, store, nil
}

// staleModels is pipeline.StaleModels, for the commands that report it
// (status, tune, the daemon's start).
func staleModels(snap *consent.Snapshot, model string) error {
	return pipeline.StaleModels(snap, model)
}

// The store's snapshot is the pipeline's view of consent.
var _ pipeline.Consent = (*consent.Snapshot)(nil)
