package node

// Names the external tests use; unexported for importers.
const TempKeyFile = tempKeyFile
