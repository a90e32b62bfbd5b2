// Package enroll turns reference photos of one person into enrolled
// references in the consent store: the photo is read as the pipeline reads
// it (redact.Decode), its faces are found by the same detector (tried again
// on a padded canvas when a tight crop shows none), and its one face is
// compared with everyone already enrolled. FaceOfJob and FaceOfRecord find
// face N of a reviewed photo (as explain and review number them) for
// enroll --from and correct --not, from the photo itself or, once the input
// is wiped, described again from the review record's crop, with the
// targets the journal says it is published on with that face shown;
// AddReviewed and MarkNot make it a reference or a negative of a pupil and
// record the correction in the audit log.
//
// Invariant: a reference is added only for a person who is in the consent
// store, only from a photo with exactly one face (or the one face a
// coordinator picked by number from a reviewed photo), only with the id of the
// face model files that computed it, and never when that face matches
// someone else who is enrolled (with the same model files) unless the
// coordinator forces it; look-alikes are compared only with references of
// the same model files, since other models' descriptors cannot be compared.
package enroll
