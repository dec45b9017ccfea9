package token

// Names the external tests use; unexported for importers.
var CleanExpired = cleanExpired
