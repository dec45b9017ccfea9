package controller

import (
	"time"

	"k8s.io/utils/clock"
)

// SetTrustClock makes the trustpublisher controller run by opts read the time, and tick its
// resync, from c.
func SetTrustClock(opts *Options, c clock.WithTicker) { opts.trustClock = c }

// TrustResync is the trustpublisher's resync period.
const TrustResync = trustResync

// SetRecordFlush sets how often the nodecertificates controller run by opts writes.
func SetRecordFlush(opts *Options, d time.Duration) { opts.recordFlush = d }
