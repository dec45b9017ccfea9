package layers_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/layers"
)

// TestImports lists every package of the module with go list and checks its (non-test)
// imports against layers.Allowed: a package missing from the table, or an import the
// table does not allow, fails with the package and the import named.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, layers.Module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := layers.Allowed()
	checked := 0
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		fields := strings.Fields(sc.Text())
		pkg, ok := strings.CutPrefix(fields[0], layers.Module+"/")
		if !ok || pkg == "examples" || strings.HasPrefix(pkg, "examples/") || strings.HasPrefix(pkg, "cmd/") {
			continue // the module root, and the programs, may import anything
		}
		may, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the import table (internal/layers): add it with the packages it may import", pkg)
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, layers.Module+"/")
			if ours && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which the import table (internal/layers) does not allow", pkg, dep)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked %d packages: go list gave too little", checked)
	}
}
