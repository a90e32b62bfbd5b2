package pipeline

// ReviewSink keeps, for the ICT coordinator's review page (`photoguard
// review`), what the pipeline decided about each photo it settled: faces,
// matches, decisions per target and small previews. The daemon wipes
// inputs, so this is the only time the record can be made. pipeline/review
// implements it (in the protected state folder).
//
// Record is called once per photo whose outcome is final (published,
// rejected, quarantined or held; not for duplicates, dry runs, or photos
// left to be retried), after the outcome is durable. It must not keep j or
// write descriptors or names anywhere. Its error is logged and changes
// nothing of the photo's outcome.
type ReviewSink interface {
	Record(j *Job, items []Item) error
}

// recordReview hands a photo whose outcome is durable to the review sink,
// if there is one (final calls it): not an input that was never hashed, not
// a duplicate.
func (p *Pipeline) recordReview(j *Job, items []Item) {
	if p.opt.Review == nil || p.opt.DryRun || j.SHA256 == "" || len(items) == 0 || items[0].Duplicate {
		return
	}
	if rerr := p.opt.Review.Record(j, items); rerr != nil {
		p.opt.Log.Warn("review: the record of this photo was not written", "photo", short(j.SHA256), "err", scrub(rerr))
	}
}
