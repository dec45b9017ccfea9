package clustertest

// Names the external tests use; unexported for importers.
const AssetsCommand = assetsCommand
