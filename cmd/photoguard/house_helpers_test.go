package main

import (
	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/state"
)

// openStore is openConsent to write, for the tests: a house that opened
// only its store holds nothing that needs closing.
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
