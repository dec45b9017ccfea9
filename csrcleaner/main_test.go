package csrcleaner_test

import (
	"testing"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

func mustCA(t testing.TB, opts sign.SelfSignedOptions) *sign.CA {
	t.Helper()
	ca, err := sign.NewSelfSignedCA(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// The shared CSR test helpers, under the names these tests use.
type request = csrtest.Request

var (
	newKey           = csrtest.NewKey
	uniqueName       = csrtest.UniqueName
	csrObject        = csrtest.Object
	kubeletClientCSR = csrtest.KubeletClientCSR
	create           = csrtest.Create
	setCondition     = csrtest.SetCondition
	parseCert        = csrtest.ParseCert
	waitFor          = csrtest.WaitFor
	clientUsages     = csrtest.ClientUsages
	servingUsages    = csrtest.ServingUsages
)

func int32p(v int32) *int32 { return &v }

func clusterSigner(t testing.TB) *sign.Signer {
	t.Helper()
	ca, err := sign.LoadCA(cp.CACertFile, cp.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewSigner(sign.SignerOptions{CA: ca, SigningDuration: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
