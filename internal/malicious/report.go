package malicious

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// CategoryRow is one line of the per-category table.
type CategoryRow struct {
	Category                                               string
	Cases, RejectedAtCreate, NotApproved, Approved, Signed int
	Wrong                                                  int
}

// Categories sums the results per category, in first-seen order.
func (r *Report) Categories() []CategoryRow {
	idx := map[string]int{}
	var rows []CategoryRow
	for _, res := range r.Results {
		i, ok := idx[res.Case.Category]
		if !ok {
			i = len(rows)
			idx[res.Case.Category] = i
			rows = append(rows, CategoryRow{Category: res.Case.Category})
		}
		row := &rows[i]
		row.Cases++
		switch res.Got {
		case RejectedAtCreate:
			row.RejectedAtCreate++
		case NotApproved:
			row.NotApproved++
		case Approved:
			row.Approved++
		case Signed:
			row.Signed++
		}
		if res.Wrong() {
			row.Wrong++
		}
	}
	return rows
}

// Print writes the per-category table, the totals and every wrong case.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tCASES\tREJECTED AT CREATE\tNOT APPROVED\tAPPROVED (SIGNER REFUSED)\tSIGNED\tWRONG")
	for _, row := range r.Categories() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", row.Category, row.Cases, row.RejectedAtCreate, row.NotApproved, row.Approved, row.Signed, row.Wrong)
	}
	tw.Flush()
	fmt.Fprintf(w, "corpus: %d cases, %d wrong approvals, %d wrong signatures, %d other unexpected (%d legitimate requests not issued), %d issued certificates checked (CA:false, requested usages only)\n",
		r.Cases, r.WrongApprovals, r.WrongSignatures, r.Unexpected, r.NotIssued, r.Issued)
	var wrong []Result
	for _, res := range r.Results {
		if res.Wrong() {
			wrong = append(wrong, res)
		}
	}
	sort.Slice(wrong, func(i, j int) bool { return wrong[i].Case.Name < wrong[j].Case.Name })
	for _, res := range wrong {
		fmt.Fprintf(w, "  WRONG %s: want %s, got %s %s %s %s\n", res.Case.Name, res.Case.Want, res.Got, res.Detail, res.CertProblem, res.DenialProblem)
	}
}
