package token_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tlsbootstrap/tlsbootstrap/token"
)

func ExampleParse() {
	tok, err := token.Parse("abcdef.0123456789abcdef")
	if err != nil {
		panic(err)
	}
	fmt.Println(tok)          // redacted by default
	fmt.Printf("%+v\n", tok)  // in every verb
	fmt.Println(tok.Reveal()) // the value a node needs

	_, err = token.Parse("abcdef.tooshort")
	fmt.Println(err)
	// Output:
	// abcdef.****************
	// abcdef.****************
	// abcdef.0123456789abcdef
	// invalid bootstrap token: token secret must be 16 characters of [a-z0-9], got 8 characters
}

func ExampleSecretFromSpec() {
	spec := token.DefaultSpec(token.Token{ID: "abcdef", Secret: "0123456789abcdef"})
	secret, err := token.SecretFromSpec(spec, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(secret.Namespace + "/" + secret.Name)
	fmt.Println(string(secret.Data["expiration"]))
	fmt.Println(string(secret.Data["auth-extra-groups"]))
	fmt.Println(spec.UserName(), spec.AuthGroups())
	// Output:
	// kube-system/bootstrap-token-abcdef
	// 2026-01-02T00:00:00Z
	// system:bootstrappers:kubeadm:default-node-token
	// system:bootstrap:abcdef [system:bootstrappers system:bootstrappers:kubeadm:default-node-token]
}

// ExampleCreate makes a kubeadm-style token in a cluster and prints what a node needs.
func ExampleCreate() {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		panic(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	tok, err := token.Generate()
	if err != nil {
		panic(err)
	}
	if _, err := token.Create(context.Background(), client, token.DefaultSpec(tok)); err != nil {
		panic(err)
	}
	fmt.Println("join with", tok.Reveal())
}

// A controller of one's own over the bootstrap token Secrets (and nothing else in
// kube-system), as the token cleaner and the cluster-info signer are built. It needs a
// cluster, so it is compiled but not run.
func ExampleNewSecretInformers() {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		panic(err)
	}
	factory := token.NewSecretInformers(kubernetes.NewForConfigOrDie(cfg), token.WatchOptions{})
	secrets := factory.Core().V1().Secrets()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	list, err := secrets.Lister().Secrets(token.Namespace).List(labels.Everything())
	if err != nil {
		panic(err)
	}
	fmt.Println(len(list), "bootstrap tokens")
}
