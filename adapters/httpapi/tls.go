package httpapi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrTLSPair: the certificate and key given for HTTPS are not a pair
// (or not PEM).
var ErrTLSPair = errors.New("not a certificate and its key")

// LoadTLS is the HTTPS configuration of a certificate chain and its
// private key, each given as PEM or as the path of a PEM file.
func LoadTLS(cert, key string) (*tls.Config, error) {
	certPEM, err := pem(cert, "certificate")
	if err != nil {
		return nil, err
	}
	keyPEM, err := pem(key, "key")
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTLSPair, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// pem is v itself when it is PEM, else the content of the file v names.
// Errors never show a key's content.
func pem(v, what string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := os.ReadFile(strings.TrimSpace(v))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("read the %s file %s: %w", what, strings.TrimSpace(v), err)
	}
	return b, nil
}
