package csr

import "time"

// SetAuthRetryGrace shortens AuthRetryGrace for a test; the returned func restores it.
func SetAuthRetryGrace(d time.Duration) (restore func()) {
	old := authRetryGrace
	authRetryGrace = d
	return func() { authRetryGrace = old }
}

var Download = download

const GenerateNamePrefix = generateNamePrefix

var NodeServingRequest = nodeServingRequest
var NodeServingUsages = nodeServingUsages
var NodeClientRequest = nodeClientRequest

const StateApprovedNoCert = stateApprovedNoCert
const SANTypeIP = sanTypeIP

type MismatchError = mismatchError
type NotIssuedError = notIssuedError

var Compatible = compatibleWith

type DeletedError = deletedError
type UIDChangedError = uidChangedError

const DefaultKeyType = defaultKeyType
