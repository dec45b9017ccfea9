package approve

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/utils/clock"

	"golang.org/x/sync/singleflight"
)

// question is what a SubjectAccessReview asks about a CSR.
type question struct {
	user, uid string
	groups    []string
	extra     map[string][]string
	kind      Kind
}

func questionFor(obj *certificatesv1.CertificateSigningRequest, kind Kind) question {
	extra := make(map[string][]string, len(obj.Spec.Extra))
	for k, v := range obj.Spec.Extra {
		extra[k] = slices.Clone(v)
	}
	return question{
		user:   obj.Spec.Username,
		uid:    obj.Spec.UID,
		groups: slices.Clone(obj.Spec.Groups),
		extra:  extra,
		kind:   kind,
	}
}

// key identifies identical questions: groups are a set and extra a map, so both are
// sorted; every part is length-prefixed so no two different questions share a key.
func (q question) key() string {
	var b strings.Builder
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	field(string(q.kind))
	field(q.user)
	field(q.uid)
	groups := slices.Clone(q.groups)
	slices.Sort(groups)
	groups = slices.Compact(groups)
	field(strconv.Itoa(len(groups)))
	for _, g := range groups {
		field(g)
	}
	keys := make([]string, 0, len(q.extra))
	for k := range q.extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	field(strconv.Itoa(len(keys)))
	for _, k := range keys {
		field(k)
		field(strconv.Itoa(len(q.extra[k])))
		for _, v := range q.extra[k] {
			field(v)
		}
	}
	return b.String()
}

type reviewFunc func(ctx context.Context, q question) (allowed bool, reason string, err error)

type sarAnswer struct {
	allowed bool
	reason  string
}

type sarEntry struct {
	answer  sarAnswer
	expires time.Time
}

// sarCache sends identical concurrent questions once (singleflight) and reuses allowed
// answers until ttl after their review was sent.
type sarCache struct {
	ttl     time.Duration // <0: no caching
	max     int
	clock   clock.PassiveClock
	review  reviewFunc
	flights singleflight.Group

	mu      sync.Mutex
	entries map[string]sarEntry
}

func newSARCache(ttl time.Duration, max int, c clock.PassiveClock, review reviewFunc) *sarCache {
	return &sarCache{ttl: ttl, max: max, clock: c, review: review, entries: map[string]sarEntry{}}
}

func (c *sarCache) get(ctx context.Context, q question) (bool, string, error) {
	key := q.key()
	if a, ok := c.lookup(key); ok {
		return a.allowed, a.reason, nil
	}
	ch := c.flights.DoChan(key, func() (any, error) {
		// Stamp before sending: the server evaluates after this instant, so reusing the
		// answer until sent+ttl never outlives a revocation by more than ttl.
		sent := c.clock.Now()
		// The flight is shared; one caller giving up must not fail the others.
		allowed, reason, err := c.review(context.WithoutCancel(ctx), q)
		if err != nil {
			return nil, err
		}
		a := sarAnswer{allowed: allowed, reason: reason}
		if allowed {
			c.store(key, a, sent)
		}
		return a, nil
	})
	select {
	case <-ctx.Done():
		return false, "", ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return false, "", res.Err
		}
		a := res.Val.(sarAnswer)
		return a.allowed, a.reason, nil
	}
}

func (c *sarCache) lookup(key string) (sarAnswer, bool) {
	if c.ttl <= 0 {
		return sarAnswer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return sarAnswer{}, false
	}
	if !c.clock.Now().Before(e.expires) {
		delete(c.entries, key)
		return sarAnswer{}, false
	}
	return e.answer, true
}

func (c *sarCache) store(key string, a sarAnswer, sent time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		now := c.clock.Now()
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			return // full of live answers: skip caching rather than grow without bound
		}
	}
	c.entries[key] = sarEntry{answer: a, expires: sent.Add(c.ttl)}
}
