package discovery_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
)

// fixedCA was made with openssl; its pin was computed independently with
//
//	openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
const fixedCA = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUQh05w5F4zNJeEQB+hcDAfffChyMwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLcGluLXRlc3QtY2EwIBcNMjYxMTIzMTEyNTQxWhgPMjEyNjEw
MzAxMTI1NDFaMBYxFDASBgNVBAMMC3Bpbi10ZXN0LWNhMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEnHZybsqSGwR3ElcMpM6gWBzPLA12B7AuCV0V4MpXF2QQVMr5
pErZbbdHDAR1Jmbru1+jT+w3xYCp8D7bKENhuKNTMFEwHQYDVR0OBBYEFNYzngdJ
Xax3unuQ5S58cpvRjkG0MB8GA1UdIwQYMBaAFNYzngdJXax3unuQ5S58cpvRjkG0
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAO53AMOtm1+yqlsX
oJM0erYp532KgsfP0aCqxBiI5x+TAiAvQ/+JJWyjT4vDB17Zw1ESvKSeqooQGSRL
I3Re3urHrg==
-----END CERTIFICATE-----
`

const fixedPin = "sha256:88d5f710eb847d81c7c56925a16cd8f3862a6b1b44d7f998437b34f0aceff529"

func TestPin(t *testing.T) {
	certs, err := certutil.ParseCertsPEM([]byte(fixedCA))
	if err != nil {
		t.Fatal(err)
	}
	if got := discovery.Pin(certs[0]); got != fixedPin {
		t.Errorf("Pin = %s, want %s (openssl)", got, fixedPin)
	}
}

func TestParsePin(t *testing.T) {
	hexPart := strings.TrimPrefix(fixedPin, "sha256:")
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"lower case", fixedPin, fixedPin, ""},
		{"upper-case prefix and hex", "SHA256:" + strings.ToUpper(hexPart), fixedPin, ""},
		{"surrounding spaces", "  " + fixedPin + "\n", fixedPin, ""},
		{"no prefix", hexPart, "", "want sha256:"},
		{"other hash", "sha1:" + hexPart[:40], "", `unsupported hash type "sha1"`},
		{"too short", fixedPin[:len(fixedPin)-2], "", "want 64 hex digits"},
		{"too long", fixedPin + "00", "", "want 64 hex digits"},
		{"not hex", "sha256:" + strings.Repeat("zz", 32), "", "not hexadecimal"},
		{"empty", "", "", "want sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discovery.ParsePin(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePin(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPinsCheck(t *testing.T) {
	certs, err := certutil.ParseCertsPEM([]byte(fixedCA))
	if err != nil {
		t.Fatal(err)
	}
	other := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name     string
		pins     []string
		wantOK   bool
		wantPins []string
	}{
		{"the pin", []string{fixedPin}, true, []string{fixedPin}},
		{"one of several, upper case, duplicated", []string{other, strings.ToUpper(fixedPin), fixedPin}, true, []string{fixedPin, other}},
		{"wrong pin", []string{other}, false, []string{other}},
		{"no pins", nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pins, err := discovery.ParsePins(tt.pins)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPins, discovery.PinList(pins)); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			err = pins.Check(certs...)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var mismatch *discovery.PinMismatchError
			if !errors.As(err, &mismatch) || !errors.Is(err, discovery.ErrPinMismatch) {
				t.Fatalf("Check = %v, want a *PinMismatchError", err)
			}
			if diff := cmp.Diff([]string{fixedPin}, mismatch.Actual); diff != "" {
				t.Errorf("Actual (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), fixedPin) {
				t.Errorf("error %q does not name the actual pin", err)
			}
			for _, p := range tt.wantPins {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name the expected pin %s", err, p)
				}
			}
		})
	}
}

func TestParsePinsNamesTheBadOne(t *testing.T) {
	_, err := discovery.ParsePins([]string{fixedPin, "sha256:nope"})
	if err == nil || !strings.Contains(err.Error(), `"sha256:nope"`) {
		t.Fatalf("ParsePins = %v, want an error naming the bad pin", err)
	}
}
