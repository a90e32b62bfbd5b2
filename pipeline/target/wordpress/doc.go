// Package wordpress is the WordPress target: photos go to a site's media
// library through the REST API (POST /wp-json/wp/v2/media), authenticated
// with an application password, and the media id is the reference the
// ledger keeps.
//
// Invariants: a name is shown by at most one media item once Publish returns
// (a new upload first, then every older item of that name is deleted); the
// application password never appears in an error, a log or a URL, and only
// travels over https (or to this machine); TLS certificates are verified.
package wordpress
