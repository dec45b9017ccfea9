package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tlsbootstrap/tlsbootstrap/rotate"
)

// serve answers HTTPS on addr with the renewer's current certificate until ctx ends or,
// with once, after the first request. It prints "serving https://<address>" once listening.
func serve(ctx context.Context, addr string, certs *rotate.Manager, once bool, out io.Writer) error {
	if certs.Current() == nil {
		return errors.New("no certificate to serve")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--serve: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s over %s\n", certs.Current().Leaf.Subject.CommonName, tlsVersion(r.TLS))
		if once {
			done.Do(cancel)
		}
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12},
	}
	fmt.Fprintf(out, "serving https://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTPS: %w", err)
	case <-ctx.Done():
	}
	// Shutdown lets the request in flight (the one of --serve-once) finish its response.
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping the HTTPS server: %w", err)
	}
	return nil
}

func tlsVersion(s *tls.ConnectionState) string {
	if s == nil {
		return "plain HTTP"
	}
	return tls.VersionName(s.Version)
}
