package sign_test

import (
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/csrtest"
	"github.com/tlsbootstrap/tlsbootstrap/internal/testenv"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) { testenv.MainLazy(m, controlplane.Options{}, &cp) }

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
