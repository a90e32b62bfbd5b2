// Command photoguard makes school photos safe to publish: it strips every bit
// of metadata, blurs every face the target channel may not show, rejects
// flagged categories and publishes what is left.
//
// This package is wiring only: flags, config loading and output formatting.
// Decisions live in pipeline, detect and redact.
package main
