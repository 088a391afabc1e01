package mysql

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// Capabilities the proxy never lets either side use, because it does not
// implement them: compression, session tracking (OK packets would carry
// session state the proxy does not inspect), optional result metadata and
// query attributes (they change result and command layouts), and
// CLIENT_DEPRECATE_EOF (result sets keep their EOF packets, one framing to
// check instead of two). MariaDB's extended capabilities (progress reports,
// COM_MULTI, bulk execution, extended type info, metadata caching) are zeroed
// separately.
const strippedCaps = gm.CLIENT_COMPRESS | gm.CLIENT_SESSION_TRACK | gm.CLIENT_DEPRECATE_EOF |
	gm.CLIENT_OPTIONAL_RESULTSET_METADATA | gm.CLIENT_ZSTD_COMPRESSION_ALGORITHM |
	gm.CLIENT_QUERY_ATTRIBUTES | gm.CLIENT_SSL_VERIFY_SERVER_CERT | gm.CLIENT_REMEMBER_OPTIONS |
	gm.CLIENT_CAPABILITY_EXTENSION

// requiredCaps must be offered by the backend: the proxy speaks protocol 4.1 only.
const requiredCaps = gm.CLIENT_PROTOCOL_41 | gm.CLIENT_SECURE_CONNECTION

// serverHandshake is the backend's initial handshake (protocol version 10),
// with the offsets the proxy rewrites.
type serverHandshake struct {
	raw           []byte
	serverVersion string
	connectionID  uint32
	capabilities  uint32
	// scramble is the auth plugin data (20 bytes for the usual plugins).
	scramble   []byte
	authPlugin string
	// capLowOff, capHighOff locate the two capability halves in raw;
	// mariaExtOff locates MariaDB's extended capabilities (-1 if absent).
	capLowOff, capHighOff, mariaExtOff int
}

var errMalformedHandshake = errors.New("malformed initial handshake from backend")

func parseServerHandshake(p []byte) (*serverHandshake, error) {
	if len(p) < 1 || p[0] != 10 {
		return nil, fmt.Errorf("%w: protocol version %v", errMalformedHandshake, firstByte(p))
	}
	h := &serverHandshake{raw: p, mariaExtOff: -1}
	ver, n := readNulString(p[1:])
	if n == 0 {
		return nil, errMalformedHandshake
	}
	h.serverVersion = string(ver)
	i := 1 + n
	if len(p) < i+4+8+1+2 {
		return nil, errMalformedHandshake
	}
	h.connectionID = uint32(p[i]) | uint32(p[i+1])<<8 | uint32(p[i+2])<<16 | uint32(p[i+3])<<24
	i += 4
	h.scramble = append(h.scramble, p[i:i+8]...)
	i += 8 + 1 // auth data part 1 and filler
	h.capLowOff = i
	h.capabilities = uint32(p[i]) | uint32(p[i+1])<<8
	i += 2
	if len(p) < i+1+2+2+1+10 {
		return nil, errMalformedHandshake
	}
	i++    // character set
	i += 2 // status flags
	h.capHighOff = i
	h.capabilities |= (uint32(p[i]) | uint32(p[i+1])<<8) << 16
	i += 2
	authLen := int(p[i])
	i++
	if h.capabilities&gm.CLIENT_LONG_PASSWORD == 0 {
		// MariaDB: the last 4 of the 10 reserved bytes are extended capabilities.
		h.mariaExtOff = i + 6
	}
	i += 10
	if h.capabilities&gm.CLIENT_SECURE_CONNECTION != 0 {
		n2 := authLen - 8
		if n2 < 13 {
			n2 = 13
		}
		if len(p) < i+n2 {
			return nil, errMalformedHandshake
		}
		part2 := p[i : i+n2]
		part2 = bytes.TrimRight(part2, "\x00")
		h.scramble = append(h.scramble, part2...)
		i += n2
	}
	if h.capabilities&gm.CLIENT_PLUGIN_AUTH != 0 && i < len(p) {
		name, n := readNulString(p[i:])
		if n == 0 {
			name = p[i:]
		}
		h.authPlugin = string(name)
	}
	return h, nil
}

func firstByte(p []byte) any {
	if len(p) == 0 {
		return "none"
	}
	return p[0]
}

// rewriteForClient returns the handshake to send to the client: the
// backend's, with unimplemented capabilities removed and CLIENT_SSL offered
// exactly when the proxy has a certificate for clients.
func (h *serverHandshake) rewriteForClient(offerTLS bool) (out []byte, offered uint32) {
	out = append([]byte(nil), h.raw...)
	offered = h.capabilities &^ strippedCaps &^ gm.CLIENT_SSL
	if offerTLS {
		offered |= gm.CLIENT_SSL
	}
	out[h.capLowOff] = byte(offered)
	out[h.capLowOff+1] = byte(offered >> 8)
	out[h.capHighOff] = byte(offered >> 16)
	out[h.capHighOff+1] = byte(offered >> 24)
	if h.mariaExtOff >= 0 && h.mariaExtOff+4 <= len(out) {
		copy(out[h.mariaExtOff:h.mariaExtOff+4], []byte{0, 0, 0, 0})
	}
	return out, offered
}

// versionNumber converts a server version string ("5.5.5-10.11.19-MariaDB-...",
// "8.0.36") to the number executable comments compare with (101119, 80036),
// and reports whether the server is MariaDB.
func versionNumber(v string) (num uint32, mariaDB bool) {
	mariaDB = strings.Contains(v, "MariaDB")
	v = strings.TrimPrefix(v, "5.5.5-") // MariaDB's replication-compatibility prefix
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) != 3 {
		return 0, mariaDB
	}
	major, e1 := strconv.Atoi(parts[0])
	minor, e2 := strconv.Atoi(parts[1])
	patch, e3 := strconv.Atoi(parts[2])
	if e1 != nil || e2 != nil || e3 != nil {
		return 0, mariaDB
	}
	return uint32(major*10000 + minor*100 + patch), mariaDB
}

// clientResponse is the client's HandshakeResponse41 (or its SSLRequest prefix).
type clientResponse struct {
	raw          []byte
	capabilities uint32
	user         string
	database     string
	authPlugin   string
	authData     []byte
}

var errMalformedResponse = errors.New("malformed handshake response from client")

// sslRequestLen is the length of an SSLRequest packet: the fixed prefix of a
// HandshakeResponse41 with CLIENT_SSL set and nothing after it.
const sslRequestLen = 32

func parseClientResponse(p []byte) (*clientResponse, error) {
	if len(p) < 4 {
		return nil, errMalformedResponse
	}
	r := &clientResponse{raw: p}
	r.capabilities = uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
	if r.capabilities&gm.CLIENT_PROTOCOL_41 == 0 {
		return nil, fmt.Errorf("%w: client does not speak protocol 4.1", errMalformedResponse)
	}
	if len(p) == sslRequestLen {
		return r, nil
	}
	if len(p) < sslRequestLen+1 {
		return nil, errMalformedResponse
	}
	i := sslRequestLen
	user, n := readNulString(p[i:])
	if n == 0 {
		return nil, fmt.Errorf("%w: user name not terminated", errMalformedResponse)
	}
	r.user = string(user)
	i += n
	switch {
	case r.capabilities&gm.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		s, _, n := readLenEncString(p[i:])
		if n == 0 {
			return nil, fmt.Errorf("%w: auth data", errMalformedResponse)
		}
		r.authData = s
		i += n
	case r.capabilities&gm.CLIENT_SECURE_CONNECTION != 0:
		if i >= len(p) || i+1+int(p[i]) > len(p) {
			return nil, fmt.Errorf("%w: auth data", errMalformedResponse)
		}
		r.authData = p[i+1 : i+1+int(p[i])]
		i += 1 + int(p[i])
	default:
		s, n := readNulString(p[i:])
		if n == 0 {
			return nil, fmt.Errorf("%w: auth data", errMalformedResponse)
		}
		r.authData = s
		i += n
	}
	if r.capabilities&gm.CLIENT_CONNECT_WITH_DB != 0 && i < len(p) {
		db, n := readNulString(p[i:])
		if n == 0 {
			return nil, fmt.Errorf("%w: database name", errMalformedResponse)
		}
		r.database = string(db)
		i += n
	}
	if r.capabilities&gm.CLIENT_PLUGIN_AUTH != 0 && i < len(p) {
		name, n := readNulString(p[i:])
		if n == 0 {
			name = p[i:]
			n = len(p) - i
		}
		r.authPlugin = string(name)
	}
	return r, nil
}

// rewriteForBackend returns the client's response with its capabilities
// limited to those offered and CLIENT_SSL set to match the backend leg.
func (r *clientResponse) rewriteForBackend(offered uint32, backendTLS bool) []byte {
	out := append([]byte(nil), r.raw...)
	caps := r.capabilities & offered &^ gm.CLIENT_SSL
	if backendTLS {
		caps |= gm.CLIENT_SSL
	}
	out[0], out[1], out[2], out[3] = byte(caps), byte(caps>>8), byte(caps>>16), byte(caps>>24)
	// MariaDB's extended client capabilities sit in bytes 28..31 of the filler.
	if caps&gm.CLIENT_LONG_PASSWORD == 0 && len(out) >= sslRequestLen {
		copy(out[28:32], []byte{0, 0, 0, 0})
	}
	return out
}

// sslRequestFor builds the SSLRequest the proxy sends to a TLS backend.
func sslRequestFor(r *clientResponse, offered uint32) []byte {
	out := make([]byte, sslRequestLen)
	copy(out, r.raw[:min(len(r.raw), sslRequestLen)])
	caps := (r.capabilities & offered) | gm.CLIENT_SSL
	out[0], out[1], out[2], out[3] = byte(caps), byte(caps>>8), byte(caps>>16), byte(caps>>24)
	if caps&gm.CLIENT_LONG_PASSWORD == 0 {
		copy(out[28:32], []byte{0, 0, 0, 0})
	}
	return out
}

// changeUser is a parsed COM_CHANGE_USER packet.
type changeUser struct {
	user, database, authPlugin string
}

func parseChangeUser(p []byte, caps uint32) (*changeUser, error) {
	if len(p) < 2 {
		return nil, errMalformedResponse
	}
	c := &changeUser{}
	i := 1
	user, n := readNulString(p[i:])
	if n == 0 {
		return nil, fmt.Errorf("%w: COM_CHANGE_USER user name", errMalformedResponse)
	}
	c.user = string(user)
	i += n
	if caps&gm.CLIENT_SECURE_CONNECTION != 0 {
		if i >= len(p) || i+1+int(p[i]) > len(p) {
			return nil, fmt.Errorf("%w: COM_CHANGE_USER auth data", errMalformedResponse)
		}
		i += 1 + int(p[i])
	} else {
		_, n := readNulString(p[i:])
		if n == 0 {
			return nil, fmt.Errorf("%w: COM_CHANGE_USER auth data", errMalformedResponse)
		}
		i += n
	}
	if i < len(p) {
		db, n := readNulString(p[i:])
		if n == 0 {
			return nil, fmt.Errorf("%w: COM_CHANGE_USER database", errMalformedResponse)
		}
		c.database = string(db)
		i += n
	}
	if i+2 <= len(p) {
		i += 2 // character set
	}
	if caps&gm.CLIENT_PLUGIN_AUTH != 0 && i < len(p) {
		name, n := readNulString(p[i:])
		if n == 0 {
			name = p[i:]
		}
		c.authPlugin = string(name)
	}
	return c, nil
}

// Auth plugin exchange.

const (
	pluginCachingSHA2 = "caching_sha2_password"
	// caching_sha2_password's AuthMoreData status bytes.
	sha2FastAuthOK       = 3
	sha2PerformFullAuth  = 4
	sha2RequestPublicKey = 2
)

// encryptPassword does caching_sha2_password's RSA step: the NUL-terminated
// password XORed with the scramble, encrypted with the server's public key
// (RSA-OAEP with SHA-1, as the server expects).
func encryptPassword(password, scramble, pemKey []byte) ([]byte, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("backend sent no PEM public key")
	}
	pkix, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("backend public key: %w", err)
	}
	pub, ok := pkix.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("backend public key is not RSA")
	}
	if len(scramble) == 0 {
		return nil, errors.New("no scramble for the RSA exchange")
	}
	plain := make([]byte, len(password)+1)
	copy(plain, password)
	for i := range plain {
		plain[i] ^= scramble[i%len(scramble)]
	}
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plain, nil)
}
