// Package core is the pipeline's vocabulary without its machinery: how an
// input ended (Outcome, Item), what the publication ledger keeps
// (Publication, Approval), what the audit log must do (Auditor), and the
// folders inputs are moved aside to. What a target must do is declared once,
// in the leaf pipeline/target.
//
// Invariant: core imports only the standard library and pipeline/audit, so
// the packages that read the state folder (status, retention, held, ledger)
// build without cgo; package pipeline aliases these names for its callers.
package core
