package repair

// withUser names who ran the repair in the audit log, so tests can assert
// on it; the product always logs the OS user (currentUser).
func withUser(user string) Option {
	return func(o *options) { o.user = user }
}
