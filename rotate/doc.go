// Package rotate owns certificate renewal: the rotation deadline, the kubelet's cert-dir
// store with its crash-safe current symlink, and a manager that renews client and serving
// certificates before they expire.
package rotate
