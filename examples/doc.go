// Package examples holds the end-to-end tests of the example programs, run as real
// processes against a real control plane. Each program lives in its own folder.
package examples
