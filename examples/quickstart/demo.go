package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/tlsbootstrap/tlsbootstrap/controller"
	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/internal/controlplane"
	"github.com/tlsbootstrap/tlsbootstrap/internal/serial"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rbac"
	"github.com/tlsbootstrap/tlsbootstrap/sign"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

type demo struct {
	cp     *controlplane.ControlPlane
	out    string
	start  time.Time
	rotate bool
}

type nodeResult struct {
	name     string
	res      *node.Result
	took     time.Duration
	identity string
}

func (d *demo) run(ctx context.Context, nodes int) error {
	admin := d.cp.Client()

	step("starting the tlsbootstrap approver and signer (csrapproving, csrsigning, csrcleaner)")
	ctrlCtx, stopController := context.WithCancel(ctx)
	ctrlDone := make(chan error, 1)
	var signingDuration time.Duration // the default
	if d.rotate {
		signingDuration = rotationSigningDuration
	}
	go func() {
		ctrlDone <- controller.Run(ctrlCtx, admin, controller.Options{
			ClusterSigningCA: d.cp.CA.Signing(),
			SigningDuration:  signingDuration,
		})
	}()
	defer func() {
		stopController()
		<-ctrlDone
	}()
	done("signing with CA %q", d.cp.CA.Cert.Subject.CommonName)

	step("creating a bootstrap token (TTL 1h) and applying the kubeadm RBAC preset")
	tok, err := token.Generate()
	if err != nil {
		return err
	}
	spec := token.DefaultSpec(tok)
	spec.TTL = time.Hour
	spec.Description = "tlsbootstrap quickstart"
	if _, err := token.Create(ctx, admin, spec); err != nil {
		return err
	}
	if err := rbac.Apply(ctx, admin, rbac.KubeadmPreset(token.KubeadmDefaultGroup)); err != nil {
		return err
	}
	done("token %s (user system:bootstrap:%s, group %s)", tok, tok.ID, token.KubeadmDefaultGroup)

	names := make([]string, nodes)
	for i := range names {
		names[i] = fmt.Sprintf("node-%d", i+1)
		dir := filepath.Join(d.out, names[i])
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		cfg, err := kubeconfig.BootstrapConfig(kubeconfig.BootstrapOptions{Server: d.cp.Host(), CAData: d.cp.ServingCAPEM(), Token: tok.Bearer()})
		if err != nil {
			return err
		}
		if err := kubeconfig.Write(filepath.Join(dir, "bootstrap.kubeconfig"), cfg); err != nil {
			return err
		}
	}
	done("wrote %d bootstrap kubeconfigs under %s", nodes, d.out)

	step("bootstrapping %d nodes concurrently", nodes)
	results := make([]nodeResult, nodes)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for i, name := range names {
		g.Go(func() error {
			dir := filepath.Join(d.out, name)
			began := time.Now()
			res, err := node.Bootstrap(gctx, node.Options{
				BootstrapKubeconfig: filepath.Join(dir, "bootstrap.kubeconfig"),
				Kubeconfig:          filepath.Join(dir, "kubelet.kubeconfig"),
				CertDir:             filepath.Join(dir, "pki"),
				NodeName:            name,
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			results[i] = nodeResult{name: name, res: res, took: time.Since(began)}
			mu.Lock()
			done("%s: certificate issued through %s in %s", name, res.CSRName, results[i].took.Round(time.Millisecond))
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	step("proving each node's kubeconfig authenticates as the node (SelfSubjectReview)")
	for i := range results {
		r := &results[i]
		cfg, err := kubeconfig.RESTConfig(r.res.Kubeconfig)
		if err != nil {
			return err
		}
		review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("%s: its kubeconfig does not authenticate: %w", r.name, err)
		}
		u := review.Status.UserInfo
		if u.Username != "system:node:"+r.name {
			return fmt.Errorf("%s: kubeconfig authenticates as %q, want system:node:%s", r.name, u.Username, r.name)
		}
		r.identity = fmt.Sprintf("%s [%s]", u.Username, strings.Join(u.Groups, ","))
		done("%s: %s", r.name, r.identity)
	}
	if d.rotate {
		if err := d.renewOnce(ctx, results); err != nil {
			return err
		}
	}

	fmt.Println()
	if err := d.printCSRs(ctx); err != nil {
		return err
	}
	fmt.Println()
	printNodes(results)
	return nil
}

// printCSRs prints what `kubectl get csr` shows.
func (d *demo) printCSRs(ctx context.Context) error {
	list, err := d.cp.Client().CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].CreationTimestamp.Before(&list.Items[j].CreationTimestamp) })
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NAME\tAGE\tSIGNERNAME\tREQUESTOR\tCONDITION")
	for _, c := range list.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Name, duration.HumanDuration(time.Since(c.CreationTimestamp.Time)),
			c.Spec.SignerName, c.Spec.Username, csr.StateOf(&c))
	}
	return w.Flush()
}

func printNodes(results []nodeResult) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tSERIAL\tNOT AFTER\tTIME TO CERT")
	for _, r := range results {
		serial := serial.Hex(r.res.Certificate.SerialNumber)
		if len(serial) > 16 {
			serial = serial[:16] + "…"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.name, serial, r.res.Certificate.NotAfter.UTC().Format(time.RFC3339), r.took.Round(time.Millisecond))
	}
	_ = w.Flush()
}

// clusterCA is a new cluster CA, or the one of --ca-cert/--ca-key.
func clusterCA(f *flags) (*controlplane.CA, error) {
	if f.caCert == "" {
		return controlplane.NewCA("tlsbootstrap-quickstart-ca")
	}
	ca, err := sign.LoadCA(f.caCert, f.caKey)
	if err != nil {
		return nil, err
	}
	return controlplane.CAFrom(ca)
}
