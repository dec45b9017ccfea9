package trust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	"github.com/tlsbootstrap/tlsbootstrap/sign"
)

// Defaults of Options.
const (
	// DefaultConfigMapKey is the key of the bundle in the ConfigMaps, as in kube-root-ca.crt.
	DefaultConfigMapKey = "ca.crt"
	// DefaultBundleSuffix ends the ClusterTrustBundle name after the signer prefix.
	DefaultBundleSuffix = "ca"
	// managedByLabel marks the objects Publish writes.
	managedByLabel = "app.kubernetes.io/managed-by"
	// managedBy is the value of managedByLabel.
	managedBy = "tlsbootstrap"
)

// Options say what to publish where.
type Options struct {
	// SignerName whose CA is published (e.g. example.com/workload-serving). Required.
	SignerName string
	// CA gives the current CA certificate (a FileCA follows rotations). Either CA or
	// CABundle is required; with both, CA's certificate comes first.
	CA sign.CAProvider
	// CABundle is PEM certificates to publish (the current CA first).
	CABundle []byte
	// Namespaces get a ConfigMap with the bundle. None: no ConfigMap.
	Namespaces []string
	// ConfigMapName; default ConfigMapName(SignerName).
	ConfigMapName string
	// ConfigMapKey; default DefaultConfigMapKey.
	ConfigMapKey string
	// SkipClusterTrustBundle publishes no ClusterTrustBundle (e.g. an API server that does
	// not serve certificates.k8s.io/v1 ClusterTrustBundles).
	SkipClusterTrustBundle bool
	// BundleSuffix names the ClusterTrustBundle after the signer prefix; default
	// DefaultBundleSuffix.
	BundleSuffix string
	// Clock tells the time CAs expire against. Default the real clock.
	Clock clock.PassiveClock
}

// Result tells what Publish wrote.
type Result struct {
	// Bundle is the merged PEM bundle of the ClusterTrustBundle (or, without one, of the
	// first ConfigMap).
	Bundle []byte
	// Changed lists the objects created or updated, as "configmap/<ns>/<name>" or
	// "clustertrustbundle/<name>"; empty when everything was up to date.
	Changed []string
}

// ConfigMapName is the default ConfigMap name for a signer: the signer name with "/" as
// "-", then "-ca.crt" (e.g. example.com-workload-serving-ca.crt).
func ConfigMapName(signerName string) string {
	return strings.ReplaceAll(signerName, "/", "-") + "-ca.crt"
}

// BundleName is the name of the ClusterTrustBundle linked to signerName: the API server
// requires it to start with the signer name, "/" written ":", then ":".
func BundleName(signerName, suffix string) string {
	return strings.ReplaceAll(signerName, "/", ":") + ":" + suffix
}

func (o *Options) complete() error {
	if o.SignerName == "" {
		return errors.New("trust: no signer name")
	}
	if o.CA == nil && len(o.CABundle) == 0 {
		return fmt.Errorf("trust: no CA for signer %s: set CA or CABundle", o.SignerName)
	}
	if o.ConfigMapName == "" {
		o.ConfigMapName = ConfigMapName(o.SignerName)
	}
	if o.ConfigMapKey == "" {
		o.ConfigMapKey = DefaultConfigMapKey
	}
	if o.BundleSuffix == "" {
		o.BundleSuffix = DefaultBundleSuffix
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return nil
}

// current is the bundle to add to whatever was published before.
func (o *Options) current() ([]byte, error) {
	var b []byte
	if o.CA != nil {
		ca, err := o.CA.Current()
		if err != nil {
			return nil, fmt.Errorf("trust: CA of signer %s: %w", o.SignerName, err)
		}
		b = append(b, ca.CertPEM()...)
	}
	return append(b, o.CABundle...), nil
}

// Publish writes the signer's current CA into the ConfigMap of each namespace and into the
// linked ClusterTrustBundle, keeping the CAs already there until they expire. It is
// idempotent: objects already up to date are not written. Conflicting writes are retried.
// An object whose bundle does not parse (an edit) is overwritten with the current bundle.
func Publish(ctx context.Context, client kubernetes.Interface, opts Options) (Result, error) {
	if err := opts.complete(); err != nil {
		return Result{}, err
	}
	current, err := opts.current()
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, ns := range opts.Namespaces {
		bundle, changed, err := publishConfigMap(ctx, client, &opts, ns, current)
		if err != nil {
			return res, err
		}
		if res.Bundle == nil {
			res.Bundle = bundle
		}
		if changed {
			res.Changed = append(res.Changed, "configmap/"+ns+"/"+opts.ConfigMapName)
		}
	}
	if !opts.SkipClusterTrustBundle {
		bundle, changed, err := publishClusterTrustBundle(ctx, client, &opts, current)
		if err != nil {
			return res, err
		}
		res.Bundle = bundle
		if changed {
			res.Changed = append(res.Changed, "clustertrustbundle/"+BundleName(opts.SignerName, opts.BundleSuffix))
		}
	}
	return res, nil
}

// previous is what a published object holds, to merge with the current bundle: nothing
// when it does not parse as a bundle (someone edited it), so that the edit is replaced
// instead of failing every publication from then on.
func previous(published []byte) []byte {
	if _, err := ParseBundle(published); err != nil {
		return nil
	}
	return published
}

func labels() map[string]string { return map[string]string{managedByLabel: managedBy} }

func publishConfigMap(ctx context.Context, client kubernetes.Interface, o *Options, ns string, current []byte) (bundle []byte, changed bool, err error) {
	api := client.CoreV1().ConfigMaps(ns)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := api.Get(ctx, o.ConfigMapName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if bundle, err = MergeBundles(o.Clock.Now(), current); err != nil {
				return err
			}
			cm = &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: o.ConfigMapName, Namespace: ns, Labels: labels(),
					Annotations: map[string]string{"tlsbootstrap.io/signer-name": o.SignerName}},
				Data: map[string]string{o.ConfigMapKey: string(bundle)},
			}
			_, err = api.Create(ctx, cm, metav1.CreateOptions{})
			changed = err == nil
			return err
		}
		if err != nil {
			return err
		}
		if bundle, err = MergeBundles(o.Clock.Now(), current, previous([]byte(cm.Data[o.ConfigMapKey]))); err != nil {
			return fmt.Errorf("merging with the published bundle: %w", err)
		}
		if cm.Data[o.ConfigMapKey] == string(bundle) {
			return nil
		}
		cm = cm.DeepCopy()
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[o.ConfigMapKey] = string(bundle)
		_, err = api.Update(ctx, cm, metav1.UpdateOptions{})
		changed = err == nil
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("publishing the CA of %s in ConfigMap %s/%s: %w", o.SignerName, ns, o.ConfigMapName, err)
	}
	return bundle, changed, nil
}

func publishClusterTrustBundle(ctx context.Context, client kubernetes.Interface, o *Options, current []byte) (bundle []byte, changed bool, err error) {
	api := client.CertificatesV1().ClusterTrustBundles()
	name := BundleName(o.SignerName, o.BundleSuffix)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ctb, err := api.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			if bundle, err = MergeBundles(o.Clock.Now(), current); err != nil {
				return err
			}
			ctb = &certificatesv1.ClusterTrustBundle{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels()},
				Spec:       certificatesv1.ClusterTrustBundleSpec{SignerName: o.SignerName, TrustBundle: string(bundle)},
			}
			_, err = api.Create(ctx, ctb, metav1.CreateOptions{})
			changed = err == nil
			return err
		}
		if err != nil {
			return err
		}
		if bundle, err = MergeBundles(o.Clock.Now(), current, previous([]byte(ctb.Spec.TrustBundle))); err != nil {
			return fmt.Errorf("merging with the published bundle: %w", err)
		}
		if bytes.Equal([]byte(ctb.Spec.TrustBundle), bundle) {
			return nil
		}
		ctb = ctb.DeepCopy()
		ctb.Spec.TrustBundle = string(bundle)
		_, err = api.Update(ctx, ctb, metav1.UpdateOptions{})
		changed = err == nil
		return err
	})
	if apierrors.IsNotFound(err) {
		// The object was just looked for: a NotFound now is the API itself missing.
		if served, reason, derr := ServesClusterTrustBundles(client.Discovery()); derr == nil && !served {
			return nil, false, fmt.Errorf("publishing the CA of %s in ClusterTrustBundle %s: %s; set Options.SkipClusterTrustBundle to publish ConfigMaps only", o.SignerName, name, reason)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("publishing the CA of %s in ClusterTrustBundle %s: %w", o.SignerName, name, err)
	}
	return bundle, changed, nil
}
