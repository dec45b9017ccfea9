// Package atomicfile is the project's one way to write a file that readers, and the disk
// after a crash, see whole: old content or new, never a mix. Keys, certificates,
// kubeconfigs, token files and reports are all written through it.
package atomicfile
