package certrecord

import (
	"encoding/asn1"
	"errors"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// certFields are the parts of a certificate the record keeps.
type certFields struct {
	commonName          string
	serial              *big.Int
	notBefore, notAfter time.Time
}

// oidCommonName is the subject attribute id-at-commonName.
var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// parseFields reads serial, validity and subject common name from a DER certificate
// without x509.ParseCertificate's full parse: the record reads every issued certificate
// of the cluster at start, and the full parse's garbage (extensions, public key) was most
// of the controller's peak memory at 10,000 CSRs. It trusts the certificate as the API
// server stored it (the signer's own output); nothing is verified here.
func parseFields(der []byte) (certFields, error) {
	var f certFields
	input := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return f, errors.New("certrecord: malformed certificate")
	}
	// [0] EXPLICIT version, optional.
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return f, errors.New("certrecord: malformed version")
	}
	f.serial = new(big.Int)
	if !tbs.ReadASN1Integer(f.serial) {
		return f, errors.New("certrecord: malformed serial number")
	}
	var validity, subject cryptobyte.String
	if !tbs.SkipASN1(cbasn1.SEQUENCE) || // signature algorithm
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // issuer
		!tbs.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&subject, cbasn1.SEQUENCE) {
		return f, errors.New("certrecord: malformed certificate fields")
	}
	var err error
	if f.notBefore, err = readTime(&validity); err != nil {
		return f, err
	}
	if f.notAfter, err = readTime(&validity); err != nil {
		return f, err
	}
	for !subject.Empty() {
		var rdn cryptobyte.String
		if !subject.ReadASN1(&rdn, cbasn1.SET) {
			return f, errors.New("certrecord: malformed subject")
		}
		for !rdn.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var tag cbasn1.Tag
			var value cryptobyte.String
			if !rdn.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) || !atv.ReadAnyASN1(&value, &tag) {
				return f, errors.New("certrecord: malformed subject attribute")
			}
			if oid.Equal(oidCommonName) {
				f.commonName = string(value)
			}
		}
	}
	return f, nil
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, errors.New("certrecord: malformed UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, errors.New("certrecord: malformed GeneralizedTime")
		}
	default:
		return t, errors.New("certrecord: validity is not a time")
	}
	return t, nil
}
