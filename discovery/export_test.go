package discovery

// Names the external tests use; unexported for importers.
var ParsePin = parsePin
var Sign = signJWS
