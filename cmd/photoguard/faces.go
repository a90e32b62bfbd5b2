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

// openStore is openConsent to write, for the tests (a house that opened
// only its store holds nothing that needs closing).
func openStore(cfg *config.Config) (*consent.Store, error) {
	_, store, err := openConsent(cfg, state.Write)
	return store, err
}

// ledgerKey is the house's LedgerKey, for the tests: create opens it to
// write (making the key when there is none), else read-only.
func ledgerKey(cfg *config.Config, create bool) ([]byte, error) {
	mode := state.ReadOnly
	if create {
		mode = state.Write
	}
	h, err := openHouse(cfg, mode)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.LedgerKey()
}

// staleModels is pipeline.StaleModels, for the commands that report it
// (status, tune, the daemon's start).
func staleModels(snap *consent.Snapshot, model string) error {
	return pipeline.StaleModels(snap, model)
}

// The store's snapshot is the pipeline's view of consent.
var _ pipeline.Consent = (*consent.Snapshot)(nil)
