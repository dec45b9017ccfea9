package conformance

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/tlsbootstrap/tlsbootstrap/internal/atomicfile"
)

// Report is the outcome of a run.
type Report struct {
	Implementation      Implementation `json:"implementation"`
	Profiles            []Profile      `json:"profiles"`
	UnsupportedFeatures []Feature      `json:"unsupportedFeatures,omitempty"`
	// ServerVersion is the API server's version (its /version gitVersion).
	ServerVersion string        `json:"serverVersion,omitempty"`
	Started       time.Time     `json:"started"`
	Duration      time.Duration `json:"duration"`
	Cases         []CaseResult  `json:"cases"`
	// StopError is what stopping the provisioned implementation returned, if it failed.
	StopError string `json:"stopError,omitempty"`
}

// CorePassed reports whether every core case of the run SUCCEEDED or was NOT_SUPPORTED
// (a profile the implementation does not implement, such as serving approval on
// kube-controller-manager). A skipped core case does not count as passed.
func (r *Report) CorePassed() bool {
	for _, c := range r.Cases {
		if c.Core && c.Result != Succeeded && c.Result != NotSupported {
			return false
		}
	}
	return true
}

// ProfileResults sums the run up per profile: Succeeded when every core case passed,
// NotSupported when every case was NOT_SUPPORTED, else Failed. Profiles without a
// chosen case are left out.
func (r *Report) ProfileResults() map[Profile]Result {
	out := map[Profile]Result{}
	for _, p := range r.Profiles {
		var cases, notSupported int
		result := Succeeded
		for _, c := range r.Cases {
			if c.Profile != p {
				continue
			}
			cases++
			switch {
			case c.Result == NotSupported:
				notSupported++
			case c.Core && c.Result != Succeeded:
				result = Failed
			}
		}
		if cases > 0 && notSupported == cases {
			result = NotSupported
		}
		if cases > 0 {
			out[p] = result
		}
	}
	return out
}

// Counts returns how many cases had each result.
func (r *Report) tally() map[Result]int {
	counts := map[Result]int{}
	for _, c := range r.Cases {
		counts[c.Result]++
	}
	return counts
}

// WriteTable prints one row per case (case, profile, core/extended, result, duration)
// and, under the table, the message of every case that did not succeed.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tPROFILE\tLEVEL\tRESULT\tOBSERVED\tDURATION")
	for _, c := range r.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Profile, level(c.Core), c.Result, briefly(c.Observed), c.Duration.Round(10*time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	counts := r.tally()
	fmt.Fprintf(w, "\n%s %s on Kubernetes %s: %d succeeded, %d failed, %d skipped, %d not supported in %s\n",
		orUnknown(r.Implementation.Name), r.Implementation.Version, cmp.Or(r.ServerVersion, "(unknown version)"),
		counts[Succeeded], counts[Failed], counts[Skipped], counts[NotSupported], r.Duration.Round(100*time.Millisecond))
	// A profile the implementation does not implement is one line, not one per case.
	profiles := r.ProfileResults()
	for _, p := range r.Profiles {
		res, ok := profiles[p]
		if !ok {
			continue
		}
		if res == NotSupported {
			fmt.Fprintf(w, "  profile %s: %s: %s\n", p, res, r.firstMessage(p))
			continue
		}
		fmt.Fprintf(w, "  profile %s: %s\n", p, res)
	}
	for _, c := range r.Cases {
		if c.Result != Succeeded && c.Message != "" && profiles[c.Profile] != NotSupported {
			fmt.Fprintf(w, "  %s %s: %s\n", c.Result, c.FullName(), c.Message)
		}
	}
	if r.StopError != "" {
		fmt.Fprintf(w, "  stopping the implementation failed: %s\n", r.StopError)
	}
	_, err := fmt.Fprintf(w, "core cases passed: %t\n", r.CorePassed())
	return err
}

func (r *Report) firstMessage(p Profile) string {
	for _, c := range r.Cases {
		if c.Profile == p {
			return c.Message
		}
	}
	return ""
}

// JSON is the report as indented JSON.
func (r *Report) jsonReport() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// YAML is the report as YAML (the same fields as JSON).
func (r *Report) yamlReport() ([]byte, error) { return yaml.Marshal(r) }

// JUnit is the report as JUnit XML: one testsuite per profile, extended cases marked by
// a property, NOT_SUPPORTED and SKIPPED as skipped.
func (r *Report) junitReport() ([]byte, error) {
	suites := junitSuites{Name: "tlsbootstrap-conformance " + r.Implementation.Name + " " + r.Implementation.Version}
	index := map[Profile]int{}
	for _, c := range r.Cases {
		i, ok := index[c.Profile]
		if !ok {
			i = len(suites.Suites)
			index[c.Profile] = i
			suites.Suites = append(suites.Suites, junitSuite{Name: string(c.Profile)})
		}
		s := &suites.Suites[i]
		tc := junitCase{Name: c.Name, Classname: string(c.Profile) + "." + level(c.Core), Time: seconds(c.Duration)}
		if c.Observed != "" {
			tc.SystemOut = "observed: " + c.Observed
		}
		switch c.Result {
		case Failed:
			tc.Failure = &junitMessage{Message: c.Message, Text: c.Message}
			s.Failures++
		case Skipped, NotSupported:
			tc.Skipped = &junitMessage{Message: string(c.Result) + ": " + c.Message}
			s.Skipped++
		}
		s.Tests++
		s.Time += c.Duration.Seconds()
		s.Cases = append(s.Cases, tc)
		suites.Tests++
	}
	for i := range suites.Suites {
		suites.Suites[i].TimeText = fmt.Sprintf("%.3f", suites.Suites[i].Time)
		suites.Failures += suites.Suites[i].Failures
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// WriteFiles writes report.json, report.yaml and junit.xml into dir (created if needed),
// each atomically.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report folder %s: %w", dir, err)
	}
	for name, render := range map[string]func() ([]byte, error){
		"report.json": r.jsonReport, "report.yaml": r.yamlReport, "junit.xml": r.junitReport,
	} {
		data, err := render()
		if err != nil {
			return fmt.Errorf("rendering %s: %w", name, err)
		}
		if err := atomicfile.Write(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func level(core bool) string {
	if core {
		return "core"
	}
	return "extended"
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(unnamed implementation)"
	}
	return s
}

// briefly is the head of an observation for the table ("Denied", "Pending after 5s");
// the reports keep all of it.
func briefly(observed string) string {
	if observed == "" {
		return "-"
	}
	if i := strings.IndexAny(observed, "(:"); i > 0 {
		return strings.TrimSpace(observed[:i])
	}
	return observed
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"-"`
	TimeText string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}
