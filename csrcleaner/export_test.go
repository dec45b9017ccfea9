package csrcleaner

// SetListPageSize shortens the Cleaner's list pages for a test; the returned func
// restores them.
func SetListPageSize(n int64) (restore func()) {
	old := listPageSize
	listPageSize = n
	return func() { listPageSize = old }
}

var ShouldDelete = shouldDelete
