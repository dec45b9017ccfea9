// Package testenv runs one real control plane per test package: call Main from TestMain.
//
//	var cp *controlplane.ControlPlane
//
//	func TestMain(m *testing.M) { testenv.Main(m, controlplane.Options{}, &cp) }
//
// Under -fuzz (coordinator and workers) no control plane is started: fuzz targets must be
// pure. When the binaries are missing the package's tests fail at once with the message that
// says how to build them; they are never skipped silently.
package testenv
