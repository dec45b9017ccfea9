// Command node-agent obtains a node's client certificate and kubeconfig the way the kubelet
// does, with the kubelet's flag names. With --once it exits as soon as a valid certificate
// and kubeconfig exist; otherwise it stays up until interrupted, renewing the client
// certificate before it expires (--rotate-certificates, default true) and, with
// --rotate-server-certificates, keeping a serving certificate for --node-ip and the node
// name, logging each rotation. It leaves the Node object to the kubelet; on a test
// cluster without one, --register-node creates it (see internal/nodereg).
//
//	go run ./examples/node-agent --bootstrap-kubeconfig bootstrap.kubeconfig \
//	    --kubeconfig kubelet.kubeconfig --cert-dir pki --node-name node-1 --once
//
// Instead of --bootstrap-kubeconfig it can discover the cluster as kubeadm join does, from
// the server address, a bootstrap token and the CA pin (see discovery.go):
//
//	go run ./examples/node-agent --server https://10.0.0.1:6443 \
//	    --discovery-token 07401b.f395accd246ae52d \
//	    --discovery-token-ca-cert-hash sha256:<hex> --kubeconfig kubelet.kubeconfig --once
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/tlsbootstrap/tlsbootstrap/csr"
	"github.com/tlsbootstrap/tlsbootstrap/node"
	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

type flags struct {
	bootstrapKubeconfig string
	kubeconfig          string
	certDir             string
	nodeName            string
	timeout             time.Duration
	authRetryGrace      time.Duration
	once                bool
	rotateClient        bool
	rotateServing       bool
	nodeIPs             []net.IP
	renewAfter          time.Duration
	registerNode        bool
	discovery           discoveryFlags
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "node-agent: %s\n", oneLine(err))
		os.Exit(1)
	}
}

func parse(args []string) (*flags, error) {
	f := &flags{}
	fs := pflag.NewFlagSet("node-agent", pflag.ContinueOnError)
	fs.StringVar(&f.bootstrapKubeconfig, "bootstrap-kubeconfig", "", "kubeconfig with the bootstrap credentials, used when --kubeconfig is missing or unusable")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig to write (and to use when already valid)")
	fs.StringVar(&f.certDir, "cert-dir", "/var/lib/kubelet/pki", "folder for kubelet-client-*.pem and kubelet-client-current.pem")
	fs.StringVar(&f.nodeName, "node-name", "", "node name; the certificate's CN is system:node:<name> (default: the hostname)")
	fs.StringVar(&f.nodeName, "hostname-override", "", "alias of --node-name, as in the kubelet")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "bound on the whole bootstrap, including waiting for approval")
	fs.DurationVar(&f.authRetryGrace, "auth-retry-grace", csr.AuthRetryGrace, "how long a 401 to the bootstrap token is retried before giving up (a restarted API server rejects bootstrap tokens until it has read their Secrets); 0 gives up at once")
	fs.BoolVar(&f.once, "once", false, "exit 0 as soon as a valid client certificate and kubeconfig exist")
	fs.BoolVar(&f.rotateClient, "rotate-certificates", true, "renew the client certificate before it expires (without --once)")
	fs.BoolVar(&f.rotateServing, "rotate-server-certificates", false, "request and renew a serving certificate (signer kubernetes.io/kubelet-serving) for --node-ip and the node name (without --once)")
	fs.IPSliceVar(&f.nodeIPs, "node-ip", nil, "IP address(es) of the node, repeatable or comma-separated; SANs of the serving certificate")
	fs.BoolVar(&f.registerNode, "register-node", false, "for test clusters without a kubelet: create this node's Node object with its new identity if missing and set its addresses from --node-ip and the node name, which the serving approver checks serving certificates against (without --once). Where a kubelet runs, leave it off: a Node created before the kubelet registers lacks what the kubelet and the cloud provider set (labels, taints, capacity, providerID...)")
	fs.DurationVar(&f.renewAfter, "renew-after", 0, "renew each certificate this long after it is loaded instead of at 70-90% of its lifetime (demos and tests)")
	_ = fs.MarkHidden("renew-after")
	f.discovery.register(fs)
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlag(klogFlags.Lookup("v")) // only verbosity; klog's other flags are noise here
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := f.discovery.complete(f); err != nil {
		return nil, err
	}
	if f.bootstrapKubeconfig == "" || f.kubeconfig == "" {
		return nil, errors.New("--kubeconfig and --bootstrap-kubeconfig (or --discovery-token with --server) are required")
	}
	if f.nodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("--node-name not set and the hostname is unknown: %w", err)
		}
		f.nodeName = strings.ToLower(host)
	}
	return f, nil
}

func run(args []string) error {
	f, err := parse(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	bootCtx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if err := discoverBootstrap(bootCtx, f, f.timeout); err != nil {
		return err
	}
	opts := node.Options{
		BootstrapKubeconfig: f.bootstrapKubeconfig,
		Kubeconfig:          f.kubeconfig,
		CertDir:             f.certDir,
		NodeName:            f.nodeName,
		AuthRetryGrace:      &f.authRetryGrace,
	}
	if f.once || (!f.rotateClient && !f.rotateServing) {
		res, err := node.Bootstrap(bootCtx, opts)
		if err != nil {
			return err
		}
		logBootstrap(f, res)
		if f.once {
			return nil
		}
		if f.registerNode {
			if err := registerNode(bootCtx, f); err != nil {
				return err
			}
		}
		klog.InfoS("running until interrupted, without renewals")
		<-ctx.Done()
		return nil
	}
	agent, err := node.Start(ctx, f.runOptions(opts))
	if err != nil {
		return err
	}
	logBootstrap(f, agent.Result())
	if f.registerNode {
		if err := registerNode(bootCtx, f); err != nil {
			return err
		}
	} else if f.rotateServing {
		klog.InfoS("not registering the Node: a serving approver checks serving certificates against the Node's addresses, which the kubelet registers (--register-node on test clusters without a kubelet)", "node", f.nodeName)
	}
	for _, m := range []*rotate.Manager{agent.Client(), agent.Serving()} {
		if m != nil {
			st := m.Status()
			klog.InfoS("rotating certificate", "kind", st.Kind, "serial", st.Serial, "notAfter", st.NotAfter)
		}
	}
	klog.InfoS("running until interrupted")
	agent.Wait()
	return nil
}

func logBootstrap(f *flags, res *node.Result) {
	switch {
	case res.Skipped:
		klog.InfoS("kubeconfig already valid", "kubeconfig", f.kubeconfig)
	case res.Reused:
		klog.InfoS("wrote kubeconfig for the certificate in the cert-dir", "kubeconfig", f.kubeconfig, "notAfter", res.Certificate.NotAfter)
	default:
		klog.InfoS("bootstrapped", "csr", res.CSRName, "kubeconfig", f.kubeconfig, "certificate", res.CertificateFile, "notAfter", res.Certificate.NotAfter)
	}
}

// oneLine keeps the failure reason on a single line for scripts and logs.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
