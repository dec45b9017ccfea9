package kubeconfig_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/kubeconfig"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// startDiscovery publishes cluster-info for the test control plane and runs a bootstrap
// signer until the test ends. It returns the pin of the serving CA.
func startDiscovery(t *testing.T) string {
	t.Helper()
	if err := discovery.PublishClusterInfo(context.Background(), cp.Client(), cp.Host(), cp.ServingCAPEM()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- discovery.NewClusterInfoSigner(cp.Client(), token.WatchOptions{}).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("signer: %v", err)
		}
	})
	certs, err := certutil.ParseCertsPEM(cp.ServingCAPEM())
	if err != nil {
		t.Fatal(err)
	}
	return discovery.Pin(certs[0])
}

// joinToken creates a bootstrap token with usages that expires in an hour.
func joinToken(t *testing.T, usages ...string) token.Token {
	t.Helper()
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.Create(context.Background(), cp.Client(), token.Spec{Token: tok, TTL: time.Hour, Usages: usages}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = token.Delete(context.Background(), cp.Client(), tok.ID) })
	return tok
}

// waitSigned waits until the signer has signed cluster-info for id, so that failures
// below are about the case and not about timing.
func waitSigned(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		cm, err := cp.Client().CoreV1().ConfigMaps(discovery.Namespace).Get(context.Background(), discovery.ConfigMapName, metav1.GetOptions{})
		if err == nil && cm.Data[discovery.SignatureKey(id)] != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster-info never signed for token %s (last error %v)", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDiscover(t *testing.T) {
	pin := startDiscovery(t)
	signing := joinToken(t, token.UsageSigning, token.UsageAuthentication)
	authOnly := joinToken(t, token.UsageAuthentication)
	waitSigned(t, signing.ID)
	otherPin := "sha256:" + strings.Repeat("0", 64)
	unknown := token.Token{ID: "nosuch", Secret: "0123456789abcdef"}

	tests := []struct {
		name    string
		opts    kubeconfig.DiscoverOptions
		wantIs  error  // nil: success
		wantMsg string // part of the error message
	}{
		{name: "right pin", opts: kubeconfig.DiscoverOptions{Token: signing, CACertHashes: []string{pin}}},
		{name: "right pin among several, upper case", opts: kubeconfig.DiscoverOptions{Token: signing, CACertHashes: []string{otherPin, strings.ToUpper(pin)}}},
		{name: "no pins, verification explicitly skipped", opts: kubeconfig.DiscoverOptions{Token: signing, UnsafeSkipCAVerification: true}},
		{name: "no pins", opts: kubeconfig.DiscoverOptions{Token: signing}, wantIs: kubeconfig.ErrNoCACertHashes},
		{name: "malformed pin", opts: kubeconfig.DiscoverOptions{Token: signing, CACertHashes: []string{"md5:abc"}}, wantMsg: `unsupported hash type "md5"`},
		{name: "wrong pin", opts: kubeconfig.DiscoverOptions{Token: signing, CACertHashes: []string{otherPin}}, wantIs: discovery.ErrPinMismatch, wantMsg: "expected one of [" + otherPin + "], the cluster CA has [" + pin + "]"},
		{name: "unknown token id", opts: kubeconfig.DiscoverOptions{Token: unknown, CACertHashes: []string{pin}}, wantIs: kubeconfig.ErrNoSignature, wantMsg: "nosuch"},
		{name: "token without the signing usage", opts: kubeconfig.DiscoverOptions{Token: authOnly, CACertHashes: []string{pin}}, wantIs: kubeconfig.ErrNoSignature, wantMsg: authOnly.ID},
		{name: "wrong token secret", opts: kubeconfig.DiscoverOptions{Token: token.Token{ID: signing.ID, Secret: "0000000000000000"}, CACertHashes: []string{pin}}, wantIs: discovery.ErrBadSignature},
		{name: "no token", opts: kubeconfig.DiscoverOptions{CACertHashes: []string{pin}}, wantMsg: "no bootstrap token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Server = cp.Host()
			opts.Timeout, opts.RetryInterval = 2*time.Second, 200*time.Millisecond
			cfg, err := kubeconfig.Discover(context.Background(), opts)
			if tt.wantIs == nil && tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Discover: %v", err)
				}
				checkDiscovered(t, cfg, opts.Token.Reveal())
				return
			}
			if err == nil {
				t.Fatal("Discover succeeded")
			}
			t.Log(err)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v, want one wrapping %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if secret := opts.Token.Secret; secret != "" && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q reveals the token secret", err)
			}
		})
	}
}

// checkDiscovered checks the result names the published server and CA and the token, and
// that the API server authenticates it as the token's user.
func checkDiscovered(t *testing.T, cfg *clientcmdapi.Config, tok string) {
	t.Helper()
	cluster := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]
	if cluster.Server != cp.Host() || string(cluster.CertificateAuthorityData) != string(cp.ServingCAPEM()) || cluster.InsecureSkipTLSVerify {
		t.Errorf("discovered cluster %s (insecure %v), want %s with the serving CA", cluster.Server, cluster.InsecureSkipTLSVerify, cp.Host())
	}
	path := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	rc, err := kubeconfig.RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the discovered kubeconfig does not authenticate: %v", err)
	}
	id, _, _ := strings.Cut(tok, ".")
	if got := review.Status.UserInfo.Username; got != token.UserPrefix+id {
		t.Errorf("authenticated as %q, want %q", got, token.UserPrefix+id)
	}
}

func TestDiscoverWaitsForTheSignature(t *testing.T) {
	pin := startDiscovery(t)
	tok, err := token.Generate()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(time.Second)
		_, _ = token.Create(context.Background(), cp.Client(), token.Spec{Token: tok, TTL: time.Hour, Usages: []string{token.UsageSigning, token.UsageAuthentication}})
	}()
	t.Cleanup(func() { _ = token.Delete(context.Background(), cp.Client(), tok.ID) })
	start := time.Now()
	_, err = kubeconfig.Discover(context.Background(), kubeconfig.DiscoverOptions{
		Server: cp.Host(), Token: tok, CACertHashes: []string{pin},
		Timeout: 20 * time.Second, RetryInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("Discover returned after %s, before the token existed", waited)
	}
}

func TestDiscoverDetectsChangeBetweenFetches(t *testing.T) {
	pin := startDiscovery(t)
	tok := joinToken(t, token.UsageSigning, token.UsageAuthentication)
	waitSigned(t, tok.ID)
	restore := kubeconfig.SetDiscoverHook(func() {
		// Same CA, another server: the verified fetch still succeeds but reads other bytes.
		if err := discovery.PublishClusterInfo(context.Background(), cp.Client(), "https://changed.example:6443", cp.ServingCAPEM()); err != nil {
			t.Error(err)
		}
	})
	defer restore()
	t.Cleanup(func() {
		_ = discovery.PublishClusterInfo(context.Background(), cp.Client(), cp.Host(), cp.ServingCAPEM())
	})
	_, err := kubeconfig.Discover(context.Background(), kubeconfig.DiscoverOptions{
		Server: cp.Host(), Token: tok, CACertHashes: []string{pin}, Timeout: 10 * time.Second,
	})
	if !errors.Is(err, kubeconfig.ErrContentChanged) {
		t.Fatalf("Discover = %v, want ErrContentChanged", err)
	}
}

// A man in the middle at the join address rewrites cluster-info to make the node trust
// it: the signature no longer matches, and the token never reaches the attacker.
func TestDiscoverRejectsTamperedClusterInfo(t *testing.T) {
	pin := startDiscovery(t)
	tok := joinToken(t, token.UsageSigning, token.UsageAuthentication)
	waitSigned(t, tok.ID)

	upstream, err := url.Parse(cp.Host())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cp.ServingCAPEM())
	var sawCredentials atomic.Bool
	var forgedResponses atomic.Int32
	proxy := httptest.NewUnstartedServer(nil)
	proxy.StartTLS()
	defer proxy.Close()
	attackerCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.Out.Header.Set("Accept", "application/json")
		},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		ModifyResponse: func(resp *http.Response) error {
			if !strings.HasSuffix(resp.Request.URL.Path, "/configmaps/"+discovery.ConfigMapName) || resp.StatusCode != http.StatusOK {
				return nil
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			var cm corev1.ConfigMap
			if err := json.Unmarshal(body, &cm); err != nil {
				return err
			}
			forged, err := discovery.ClusterInfoKubeconfig(proxy.URL, attackerCA)
			if err != nil {
				return err
			}
			cm.Data[discovery.KubeconfigKey] = string(forged)
			if body, err = json.Marshal(&cm); err != nil {
				return err
			}
			resp.Body = io.NopCloser(strings.NewReader(string(body)))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			forgedResponses.Add(1)
			return nil
		},
	}
	proxy.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawCredentials.Store(true)
		}
		rp.ServeHTTP(w, r)
	})

	for _, opts := range []kubeconfig.DiscoverOptions{
		{Server: proxy.URL, Token: tok, CACertHashes: []string{pin}},
		{Server: proxy.URL, Token: tok, UnsafeSkipCAVerification: true},
	} {
		opts.Timeout = 10 * time.Second
		_, err := kubeconfig.Discover(context.Background(), opts)
		if !errors.Is(err, discovery.ErrBadSignature) {
			t.Errorf("Discover through the forging proxy (pins %v) = %v, want ErrBadSignature", opts.CACertHashes, err)
		}
	}
	if forgedResponses.Load() == 0 {
		t.Error("the proxy never forged cluster-info: the test proves nothing")
	}
	if sawCredentials.Load() {
		t.Error("Discover sent credentials over the unverified connection")
	}
}
