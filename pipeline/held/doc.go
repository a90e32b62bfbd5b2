// Package held lists the photos waiting in state_dir/held/ and puts them
// back through the pipeline (`photoguard retry`).
//
// Invariant: a held original leaves its folder only to be processed by the
// pipeline's one code path (Pipeline.Process), from a staging folder inside
// state_dir (retry/) where its path below the inbox is rebuilt, so that
// category rules see what they saw the first time; whatever the outcome
// (published and wiped, moved aside again, or left for later), the
// original is in exactly one place afterwards, and a crash in between is
// put right by Recover, which every `photoguard retry` runs first. Nothing
// is written outside state_dir, links are never followed, and a held
// folder is removed only once its original is gone from it.
package held
