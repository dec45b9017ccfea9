package rotate

// Names the external tests use; unexported for importers.
var ErrNoAddresses = errNoAddresses
