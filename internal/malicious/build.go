package malicious

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
)

// keyKind names a key algorithm and size for a request.
type keyKind string

const (
	keyP256    keyKind = "ecdsa-p256"
	keyP224    keyKind = "ecdsa-p224"
	keyP384    keyKind = "ecdsa-p384"
	keyP521    keyKind = "ecdsa-p521"
	keyRSA1024 keyKind = "rsa-1024"
	keyRSA2048 keyKind = "rsa-2048"
	keyEd25519 keyKind = "ed25519"
)

func newKey(k keyKind) (crypto.Signer, error) {
	switch k {
	case keyP224:
		return ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	case keyP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case keyP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case keyRSA1024:
		// The weakest RSA key Go still generates (smaller sizes are refused since Go 1.24).
		return rsa.GenerateKey(rand.Reader, 1024)
	case keyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case keyEd25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	default:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
}

// tamper says how a well-formed request is broken after it is signed.
type tamper string

const (
	tamperNone      tamper = ""
	tamperSwapKey   tamper = "swap-key"   // another key's SubjectPublicKeyInfo, original signature
	tamperFlipSig   tamper = "flip-sig"   // one bit of the signature flipped
	tamperTruncate  tamper = "truncate"   // DER cut in half
	tamperTwoBlocks tamper = "two-blocks" // the request PEM twice
	tamperWithKey   tamper = "with-key"   // the request PEM followed by its private key PEM
	tamperCertType  tamper = "cert-type"  // the request DER under a CERTIFICATE header
	tamperGarbage   tamper = "garbage"    // not PEM at all
	tamperEmpty     tamper = "empty"      // no bytes
	tamperBadBase64 tamper = "bad-base64" // a PEM block whose body is not base64
)

// spec describes the x509 request of a case.
type spec struct {
	cn     string
	orgs   []string
	ous    []string
	dns    []string
	ips    []string
	emails []string
	uris   []string
	key    keyKind
	exts   []pkix.Extension
	tamper tamper
	// orgsOverride replaces orgs where a helper sets them.
	orgsOverride []string
	// netIPs are IP SANs as parsed values (the kubelet's sloppy parsing accepts spellings
	// net.ParseIP refuses); they follow ips.
	netIPs []net.IP
}

// build signs the request and applies the tamper; it returns the PEM for spec.request and
// the private key (for the tamper that appends it).
func (s spec) build() ([]byte, error) {
	key, err := newKey(s.key)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", s.key, err)
	}
	tmpl := &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: s.cn, Organization: s.orgs, OrganizationalUnit: s.ous},
		DNSNames:        s.dns,
		EmailAddresses:  s.emails,
		ExtraExtensions: s.exts,
	}
	for _, ip := range s.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	tmpl.IPAddresses = append(tmpl.IPAddresses, s.netIPs...)
	for _, raw := range s.uris {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("creating request: %w", err)
	}
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	switch s.tamper {
	case tamperSwapKey:
		der, err = swapKey(der)
	case tamperFlipSig:
		der = append([]byte(nil), der...)
		der[len(der)-3] ^= 0x01
	case tamperTruncate:
		der = der[:len(der)/2]
	case tamperTwoBlocks:
		return append(block("CERTIFICATE REQUEST", der), block("CERTIFICATE REQUEST", der)...), nil
	case tamperWithKey:
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return append(block("CERTIFICATE REQUEST", der), block("PRIVATE KEY", keyDER)...), nil
	case tamperCertType:
		return block("CERTIFICATE", der), nil
	case tamperGarbage:
		return []byte("this is not a certificate request\x00\xff"), nil
	case tamperEmpty:
		return nil, nil
	case tamperBadBase64:
		return []byte("-----BEGIN CERTIFICATE REQUEST-----\n!!!!not*base64!!!!\n-----END CERTIFICATE REQUEST-----\n"), nil
	}
	if err != nil {
		return nil, err
	}
	return block("CERTIFICATE REQUEST", der), nil
}

// The outer structure of a PKCS#10 request, enough to replace the key inside it.
type rawCSR struct {
	Info      asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

type rawCSRInfo struct {
	Version    int
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	Attributes asn1.RawValue `asn1:"tag:0"`
}

// swapKey replaces the request's public key with another key's, keeping the original
// signature: the result is well-formed but fails CheckSignature.
func swapKey(der []byte) ([]byte, error) {
	var outer rawCSR
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, fmt.Errorf("parsing request: %w", err)
	}
	var info rawCSRInfo
	if _, err := asn1.Unmarshal(outer.Info.FullBytes, &info); err != nil {
		return nil, fmt.Errorf("parsing request info: %w", err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(other.Public())
	if err != nil {
		return nil, err
	}
	info.PublicKey = asn1.RawValue{FullBytes: spki}
	infoDER, err := asn1.Marshal(info)
	if err != nil {
		return nil, err
	}
	outer.Info = asn1.RawValue{FullBytes: infoDER}
	return asn1.Marshal(outer)
}

// Request extensions an attacker may put in a CSR; the signer must copy none of them.
var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidNameConstraints  = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidPrivate          = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}
)

type basicConstraints struct {
	IsCA       bool `asn1:"optional"`
	MaxPathLen int  `asn1:"optional,default:-1"`
}

func mustExt(id asn1.ObjectIdentifier, critical bool, v any) pkix.Extension {
	der, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshalling extension %v: %v", id, err)) // constant input: a bug here, not bad input
	}
	return pkix.Extension{Id: id, Critical: critical, Value: der}
}

func caTrueExt(pathLen int) pkix.Extension {
	return mustExt(oidBasicConstraints, true, basicConstraints{IsCA: true, MaxPathLen: pathLen})
}

// keyUsageCertSign is a keyUsage extension asking for keyCertSign and cRLSign.
func keyUsageCertSign() pkix.Extension {
	return mustExt(oidKeyUsage, true, asn1.BitString{Bytes: []byte{0x06}, BitLength: 7})
}

// extKeyUsageAny asks for anyExtendedKeyUsage, serverAuth and codeSigning.
func extKeyUsageAny() pkix.Extension {
	return mustExt(oidExtKeyUsage, false, []asn1.ObjectIdentifier{{2, 5, 29, 37, 0}, {1, 3, 6, 1, 5, 5, 7, 3, 1}, {1, 3, 6, 1, 5, 5, 7, 3, 3}})
}

// bigExt is a private extension of n bytes (an oversized request).
func bigExt(n int) pkix.Extension {
	return mustExt(oidPrivate, false, make([]byte, n))
}
