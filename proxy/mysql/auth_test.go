package mysql

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
	gomysql "github.com/go-sql-driver/mysql"
)

// testCert makes a self-signed RSA certificate for 127.0.0.1 and returns it
// with its public key in PEM (the form caching_sha2_password sends).
func testCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dbfence-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
}

// stateHandler answers the proxy's session-state query like a server would.
type stateHandler struct{ server.EmptyHandler }

func (stateHandler) HandleQuery(q string) (*gm.Result, error) {
	if strings.Contains(q, "@@SESSION.sql_mode") {
		rs, err := gm.BuildSimpleTextResultset([]string{"m", "c", "d", "r"}, [][]interface{}{{"STRICT_TRANS_TABLES", "utf8mb4", nil, "utf8mb4"}})
		if err != nil {
			return nil, err
		}
		return &gm.Result{Resultset: rs}, nil
	}
	if q == "SELECT 42" {
		rs, _ := gm.BuildSimpleTextResultset([]string{"v"}, [][]interface{}{{42}})
		return &gm.Result{Resultset: rs}, nil
	}
	return nil, errors.New("unsupported: " + q)
}

// startSHA2Backend runs a MySQL 8 style server whose only account uses
// caching_sha2_password, optionally with TLS.
func startSHA2Backend(t *testing.T, withTLS bool) string {
	t.Helper()
	cert, pub := testCert(t)
	var tlsCfg *tls.Config
	if withTLS {
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	srv := server.NewServer("8.0.36", gm.DEFAULT_COLLATION_ID, gm.AUTH_CACHING_SHA2_PASSWORD, pub, tlsCfg)
	creds := server.NewInMemoryProvider()
	creds.AddUser("sha2user", "sha2-pass")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				conn, err := srv.NewCustomizedConn(c, creds, stateHandler{})
				if err != nil {
					return
				}
				for !conn.Closed() {
					if err := conn.HandleCommand(); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestCachingSHA2PasswordThroughProxy(t *testing.T) {
	clientCert, _ := testCert(t)
	tests := []struct {
		desc       string
		clientTLS  bool
		backendTLS bool
		password   string
		wantErr    uint16
	}{
		{"plain client, plain backend: RSA public-key exchange relayed", false, false, "sha2-pass", 0},
		{"TLS client, plain backend: proxy does the RSA exchange for the clear-text password", true, false, "sha2-pass", 0},
		{"plain client, TLS backend", false, true, "sha2-pass", 0},
		{"TLS both legs: clear-text password inside TLS", true, true, "sha2-pass", 0},
		{"wrong password is the backend's refusal, relayed", false, false, "nope", 1045},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			backend := startSHA2Backend(t, tc.backendTLS)
			addr := startProxy(t, passGate{}, func(c *Config) {
				c.Backend = backend
				if tc.clientTLS {
					c.ClientTLS = &tls.Config{Certificates: []tls.Certificate{clientCert}}
				}
				if tc.backendTLS {
					c.BackendTLS = &tls.Config{InsecureSkipVerify: true}
				}
			})
			params := "timeout=5s"
			if tc.clientTLS {
				params += "&tls=skip-verify"
			}
			// Twice: the first login takes full authentication, the second
			// the server's fast path (its cache is warm).
			for round := 0; round < 2; round++ {
				db := openDB(t, addr, "sha2user", tc.password, "", params)
				var v int
				err := db.QueryRow("SELECT 42").Scan(&v)
				if tc.wantErr != 0 {
					var me *gomysql.MySQLError
					if !errors.As(err, &me) || me.Number != tc.wantErr {
						t.Fatalf("round %d: got %v, want error %d", round, err, tc.wantErr)
					}
					return
				}
				if err != nil || v != 42 {
					t.Fatalf("round %d: got %d, %v", round, v, err)
				}
				db.Close()
			}
		})
	}
}
