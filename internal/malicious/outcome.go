package malicious

import "strings"

// Outcome is where a submitted CSR ended.
type Outcome uint8

// The outcomes, from the earliest refusal to issuance.
const (
	// RejectedAtCreate: the API server refused to store the CSR (validation or RBAC).
	RejectedAtCreate Outcome = 1 << iota
	// NotApproved: stored, then left pending or denied; never approved.
	NotApproved
	// Approved: approved but not signed (the signer refused it, condition Failed).
	Approved
	// Signed: approved and issued a certificate.
	Signed
)

// String names the outcome, or the set of outcomes joined by "|".
func (o Outcome) String() string {
	var names []string
	for _, x := range []struct {
		o    Outcome
		name string
	}{{RejectedAtCreate, "rejected-at-create"}, {NotApproved, "not-approved"}, {Approved, "approved"}, {Signed, "signed"}} {
		if o&x.o != 0 {
			names = append(names, x.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Allows reports whether got is one of the outcomes in o.
func (o Outcome) Allows(got Outcome) bool { return o&got != 0 }

// approved reports whether the outcome includes an approval.
func (o Outcome) approved() bool { return o&(Approved|Signed) != 0 }
