package tokenfile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/internal/tokenfile"
)

var cp *controlplane.ControlPlane

// staticTokens are written by this package into the file the API server starts with.
var staticTokens []tokenfile.Entry

func TestMain(m *testing.M) { os.Exit(runWithControlPlane(m)) }

// runWithControlPlane is testenv.RunLazy plus a static token file written by this package
// before the API server can start (it reads --token-auth-file once, at start), removed
// after.
func runWithControlPlane(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tokenfile-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tokens.csv")
	for _, e := range []struct {
		user, uid string
		groups    []string
	}{
		{"kubelet-bootstrap", "10001", []string{"system:kubelet-bootstrap", "system:bootstrappers:static"}},
		{"user, with comma", "", nil},
	} {
		secret, err := tokenfile.Generate()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		staticTokens = append(staticTokens, tokenfile.Entry{Token: secret, User: e.user, UID: e.uid, Groups: e.groups})
	}
	if err := tokenfile.Save(path, staticTokens); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return testenv.RunLazy(m, controlplane.Options{TokenAuthFile: path}, &cp)
}

var whoAmI = testenv.UserOf

// A static token written by Save authenticates as its user, uid and groups; any other is 401.
func TestStaticTokenFileAcceptedByServer(t *testing.T) {
	testenv.Need(t)
	ctx := context.Background()
	for _, st := range staticTokens {
		t.Run(st.User, func(t *testing.T) {
			info, err := whoAmI(ctx, cp.TokenConfig(st.Token))
			if err != nil {
				t.Fatalf("static token for %q: %v", st.User, err)
			}
			if info.Username != st.User || info.UID != st.UID {
				t.Errorf("user %q uid %q, want %q %q", info.Username, info.UID, st.User, st.UID)
			}
			want := append(slices.Clone(st.Groups), "system:authenticated")
			if diff := cmp.Diff(want, info.Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
	wrong, _ := tokenfile.Generate()
	var status apierrors.APIStatus
	if _, err := whoAmI(ctx, cp.TokenConfig(wrong)); !errors.As(err, &status) || status.Status().Code != 401 {
		t.Errorf("a static token not in the file: %v, want 401", err)
	}
}
