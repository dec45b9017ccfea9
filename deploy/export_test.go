package deploy

// Names the external tests use; unexported for importers.
const CASecret = caSecret
const LeaseName = leaseName
const ServiceAccount = serviceAccount

var ServiceAccountGroups = serviceAccountGroups

const ServiceAccountUser = serviceAccountUser

var Manifests = manifestFS

const Namespace = controllerNamespace
