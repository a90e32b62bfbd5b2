package main

import (
	"fmt"
	"os"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
)

// openStore opens the consent store under state_dir with its key.
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

// staleModels is pipeline.StaleModels, for the commands that report it
// (status, tune, the daemon's start).
func staleModels(snap *consent.Snapshot, model string) error {
	return pipeline.StaleModels(snap, model)
}

// The store's snapshot is the pipeline's view of consent.
var _ pipeline.Consent = (*consent.Snapshot)(nil)
