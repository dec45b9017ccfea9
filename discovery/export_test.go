package discovery

// Names the external tests use; unexported for importers.
var ParsePin = parsePin
var Sign = signJWS

// PinList is the pins in order, for the tests.
func PinList(p *Pins) []string { return p.list() }

const AnonymousUser = anonymousUser
