package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tjfoc/gmsm/sm2"
	gmx509 "github.com/tjfoc/gmsm/x509"
)

// Keys are the secrets the writer needs. The HMAC key chains records, the SM2
// private key signs checkpoints, the SM4 key (optional) encrypts literals.
type Keys struct {
	// HMAC is the HMAC-SM3 key, at least 16 bytes.
	HMAC []byte
	// SM4 is the 16-byte SM4 key for literals; nil means literals are not
	// encrypted (dropped, or plaintext if configured).
	SM4 []byte
	// SM2 signs checkpoints.
	SM2 *sm2.PrivateKey
}

// Key file names written by GenerateKeyFiles.
const (
	HMACKeyFileName       = "audit-hmac.key"
	SM4KeyFileName        = "audit-sm4.key"
	SM2PrivateKeyFileName = "audit-sm2.pem"
	SM2PublicKeyFileName  = "audit-sm2.pub.pem"
)

// LoadHexKey reads a file holding a hex key (surrounding whitespace ignored)
// of at least minLen bytes, or exactly exactLen bytes when exactLen > 0.
func LoadHexKey(path string, minLen, exactLen int) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read key: %w", err)
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(raw)))
	if err != nil {
		return nil, fmt.Errorf("audit: key file %s: not hex: %w", path, err)
	}
	if exactLen > 0 && len(key) != exactLen {
		return nil, fmt.Errorf("audit: key file %s: %d bytes, want %d", path, len(key), exactLen)
	}
	if len(key) < minLen {
		return nil, fmt.Errorf("audit: key file %s: %d bytes, want at least %d", path, len(key), minLen)
	}
	return key, nil
}

// LoadSM2PrivateKey reads an unencrypted PKCS#8 SM2 private key in PEM.
func LoadSM2PrivateKey(path string) (*sm2.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read SM2 private key: %w", err)
	}
	key, err := gmx509.ReadPrivateKeyFromPem(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("audit: SM2 private key %s: %w", path, err)
	}
	return key, nil
}

// LoadSM2PublicKey reads an SM2 public key in PEM ("PUBLIC KEY").
func LoadSM2PublicKey(path string) (*sm2.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read SM2 public key: %w", err)
	}
	key, err := gmx509.ReadPublicKeyFromPem(raw)
	if err != nil {
		return nil, fmt.Errorf("audit: SM2 public key %s: %w", path, err)
	}
	return key, nil
}

// GenerateKeys returns fresh random keys.
func GenerateKeys() (*Keys, error) {
	k := &Keys{HMAC: make([]byte, 32), SM4: make([]byte, 16)}
	if _, err := rand.Read(k.HMAC); err != nil {
		return nil, err
	}
	if _, err := rand.Read(k.SM4); err != nil {
		return nil, err
	}
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit: generate SM2 key: %w", err)
	}
	k.SM2 = priv
	return k, nil
}

// WriteKeyFiles writes k into dir (created 0700 if missing) under the
// *FileName names, each file 0600. It refuses to overwrite existing files
// and returns the paths written.
func WriteKeyFiles(k *Keys, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	privPEM, err := gmx509.WritePrivateKeyToPem(k.SM2, nil)
	if err != nil {
		return nil, fmt.Errorf("audit: encode SM2 private key: %w", err)
	}
	pubPEM, err := gmx509.WritePublicKeyToPem(&k.SM2.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("audit: encode SM2 public key: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{
		{HMACKeyFileName, []byte(hex.EncodeToString(k.HMAC) + "\n")},
		{SM4KeyFileName, []byte(hex.EncodeToString(k.SM4) + "\n")},
		{SM2PrivateKeyFileName, privPEM},
		{SM2PublicKeyFileName, pubPEM},
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
			return nil, fmt.Errorf("audit: %s already exists; refusing to overwrite a key", filepath.Join(dir, f.name))
		}
	}
	var written []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := writeNewFile(path, f.data); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

func writeNewFile(path string, data []byte) error {
	fd, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, werr := fd.Write(data)
	serr := fd.Sync()
	cerr := fd.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("audit: write %s: %w", path, err)
	}
	return nil
}
