package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// TestInstaller runs the installer on the embedded test control plane: three nodes
// join and renew, and no file it wrote holds the token secret or the CA key, outside the
// test control plane's own data folder (etcd stores the token Secret there, and its CA is
// the signing CA).
func TestInstaller(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // everything written lands here
	ctx, cancel := context.WithTimeout(logr.NewContext(context.Background(), logr.Discard()), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	tok, ca, err := run(ctx, flags{nodes: 3, dir: filepath.Join(tmp, "nodes")}, &out)
	if err != nil {
		t.Fatalf("installer: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for i := 1; i <= 3; i++ {
		row := regexp.MustCompile(`(?m)^system:node:node-` + string(rune('0'+i)) + `\s+([0-9A-F]+)\s+([0-9A-F]+)\s+\S+Z$`).FindStringSubmatch(out.String())
		if row == nil || row[1] == row[2] {
			t.Errorf("no row for node-%d with a joined and a different renewed serial:\n%s", i, out.String())
		}
	}
	if strings.Contains(out.String(), tok.Secret) {
		t.Error("the output shows the token secret")
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	needles := [][]byte{[]byte(tok.Secret), bytes.Split(keyPEM, []byte("\n"))[1]}
	scanned := 0
	err = filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "tlsbootstrap-controlplane-") {
				return filepath.SkipDir // the test control plane's own data
			}
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil // a socket or a file already gone
		}
		scanned++
		for _, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 3*3 { // each node: kubeconfig, a certificate pair, the current link's target
		t.Errorf("scanned only %d files; the nodes' files are missing", scanned)
	}
}
