package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file.
type Config struct {
	// Listen holds the client-facing and admin listen addresses.
	Listen Listen `yaml:"listen"`
	// MySQL configures the MySQL/MariaDB engine and its backend.
	MySQL MySQL `yaml:"mysql"`
	// Postgres configures the PostgreSQL engine and its backend.
	Postgres Postgres `yaml:"postgres"`
	// Admin configures the admin HTTP listener.
	Admin Admin `yaml:"admin"`
	// Log configures process logging.
	Log Log `yaml:"log"`
	// Approval configures the approval workflow for bulk reads.
	Approval Approval `yaml:"approval"`
	// Audit is decoded by package audit (see its Config).
	Audit yaml.Node `yaml:"audit"`
	// Policy is decoded by package rules (see its Policy).
	Policy yaml.Node `yaml:"policy"`

	// Path is the file the configuration was read from.
	Path string `yaml:"-"`
}

// Listen holds listen addresses; an empty address disables that listener.
type Listen struct {
	// MySQL is where MySQL clients connect (default 127.0.0.1:3307).
	MySQL string `yaml:"mysql"`
	// Postgres is where PostgreSQL clients connect (empty: disabled).
	Postgres string `yaml:"postgres"`
	// Admin serves /metrics, /healthz and the admin API (default 127.0.0.1:9400).
	Admin string `yaml:"admin"`
}

// MySQL configures the MySQL engine.
type MySQL struct {
	// Backend is the MySQL/MariaDB server (default 127.0.0.1:3306).
	Backend string `yaml:"backend"`
	// BackendTLS configures TLS from the proxy to the backend.
	BackendTLS BackendTLS `yaml:"backend_tls"`
	// ClientTLS configures TLS offered to clients.
	ClientTLS ClientTLS `yaml:"client_tls"`
	// MaxPacket bounds one client packet in bytes (default 64 MiB).
	MaxPacket int `yaml:"max_packet"`
	// Metadata is the account the proxy uses for its own queries (catalog,
	// KILL QUERY). Applications never use it.
	Metadata Account `yaml:"metadata"`
}

// Postgres configures the PostgreSQL engine.
type Postgres struct {
	// Backend is the PostgreSQL server (default 127.0.0.1:5432).
	Backend string `yaml:"backend"`
	// BackendTLS configures TLS from the proxy to the backend.
	BackendTLS BackendTLS `yaml:"backend_tls"`
	// ClientTLS configures TLS offered to clients.
	ClientTLS ClientTLS `yaml:"client_tls"`
	// MaxMessage bounds one client message in bytes (default 64 MiB).
	MaxMessage int `yaml:"max_message"`
	// Metadata is the account the proxy uses for its own queries: each
	// database's catalog, and the origin of result columns. It needs CONNECT
	// on the databases clients use and USAGE on their schemas; without it
	// restricted roles are refused on PostgreSQL what the catalog would resolve.
	Metadata Account `yaml:"metadata"`
}

// BackendTLS configures TLS to a backend.
type BackendTLS struct {
	// Enabled turns TLS on for every backend connection.
	Enabled bool `yaml:"enabled"`
	// CAFile verifies the backend's certificate (PEM); empty uses the system roots.
	CAFile string `yaml:"ca_file"`
	// ServerName is the name expected in the backend certificate (default: the backend host).
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate verification (test set-ups only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// ClientTLS configures TLS offered to clients.
type ClientTLS struct {
	// CertFile and KeyFile are the proxy's certificate and key (PEM). Both
	// empty: TLS is not offered.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Require refuses clients that do not use TLS.
	Require bool `yaml:"require"`
}

// Account is a backend account of the proxy's own.
type Account struct {
	// User and Password authenticate the account; PasswordFile, when set,
	// holds the password instead (first line).
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Admin configures the admin HTTP listener.
type Admin struct {
	// Token protects the admin API and the live audit stream (Bearer token).
	// Empty: those endpoints are disabled; /metrics and /healthz stay open.
	Token string `yaml:"token"`
	// TokenFile, when set, holds the token instead (first line).
	TokenFile string `yaml:"token_file"`
}

// Approval configures the approval workflow.
type Approval struct {
	// Store is the approval store: a file (one proxy host), or a
	// postgres:// URL whose database keeps the requests for several proxy
	// instances (the table is created on first use). Empty: no workflow;
	// statements that need an approval are simply refused.
	Store string `yaml:"store"`
	// Approvers are the people who may approve; never their own requests.
	Approvers []string `yaml:"approvers"`
	// ApproverTokens maps approvers to the bearer tokens that identify them
	// on the admin API (/approvals). An approver without a token can act
	// only through the CLI on the proxy host.
	ApproverTokens map[string]string `yaml:"approver_tokens"`
	// Webhook, when set, receives a JSON POST for every new request.
	Webhook string `yaml:"webhook"`
}

// Log configures process logging.
type Log struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json or console (default console).
	Format string `yaml:"format"`
}

// Load reads, decodes and validates a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse decodes and validates a configuration document.
func Parse(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: empty document
		return nil, cleanYAMLError(err)
	}
	if err := c.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	return &c, nil
}

// cleanYAMLError turns yaml.v3's "yaml: unmarshal errors:\n  line 3: field x
// not found in type config.Listen" into "line 3: unknown key x".
func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "field "); i >= 0 && strings.Contains(l, " not found in type ") {
			name := l[i+len("field "):]
			name = name[:strings.Index(name, " not found")]
			l = l[:i] + "unknown key " + name
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	return errors.New(strings.Join(lines, "; "))
}

// CheckAndSetDefaults validates the configuration and fills in defaults.
func (c *Config) CheckAndSetDefaults() error {
	var errs []error
	if c.Listen.MySQL == "" && c.Listen.Postgres == "" {
		c.Listen.MySQL = "127.0.0.1:3307"
	}
	if c.Listen.Admin == "" {
		c.Listen.Admin = "127.0.0.1:9400"
	}
	for name, a := range map[string]string{"listen.mysql": c.Listen.MySQL, "listen.postgres": c.Listen.Postgres, "listen.admin": c.Listen.Admin, "mysql.backend": c.MySQL.Backend} {
		if a == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not host:port", name, a))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s: %q: port must be a number from 0 to 65535", name, a))
		}
	}
	if c.MySQL.Backend == "" {
		c.MySQL.Backend = "127.0.0.1:3306"
	}
	if c.Postgres.Backend == "" {
		c.Postgres.Backend = "127.0.0.1:5432"
	} else if _, _, err := net.SplitHostPort(c.Postgres.Backend); err != nil {
		errs = append(errs, fmt.Errorf("postgres.backend: %q is not host:port", c.Postgres.Backend))
	}
	if c.Postgres.MaxMessage == 0 {
		c.Postgres.MaxMessage = 64 << 20
	}
	if c.Postgres.MaxMessage < 1024 || c.Postgres.MaxMessage > 1<<30 {
		errs = append(errs, fmt.Errorf("postgres.max_message: %d is outside 1 KiB..1 GiB", c.Postgres.MaxMessage))
	}
	if (c.Postgres.ClientTLS.CertFile == "") != (c.Postgres.ClientTLS.KeyFile == "") {
		errs = append(errs, errors.New("postgres.client_tls: cert_file and key_file go together"))
	}
	if c.MySQL.MaxPacket == 0 {
		c.MySQL.MaxPacket = 64 << 20
	}
	if c.MySQL.MaxPacket < 1024 || c.MySQL.MaxPacket > 1<<30 {
		errs = append(errs, fmt.Errorf("mysql.max_packet: %d is outside 1 KiB..1 GiB", c.MySQL.MaxPacket))
	}
	if (c.MySQL.ClientTLS.CertFile == "") != (c.MySQL.ClientTLS.KeyFile == "") {
		errs = append(errs, errors.New("mysql.client_tls: cert_file and key_file go together"))
	}
	if c.MySQL.ClientTLS.Require && c.MySQL.ClientTLS.CertFile == "" {
		errs = append(errs, errors.New("mysql.client_tls.require needs cert_file and key_file"))
	}
	for name := range c.Approval.ApproverTokens {
		if !slices.Contains(c.Approval.Approvers, name) {
			errs = append(errs, fmt.Errorf("approval.approver_tokens: %q is not in approval.approvers", name))
		}
	}
	switch c.Log.Level {
	case "":
		c.Log.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "":
		c.Log.Format = "console"
	case "json", "console":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not json or console", c.Log.Format))
	}
	return errors.Join(errs...)
}

// ClientTLSConfig loads the client-facing TLS configuration (nil: TLS off).
func (m *MySQL) ClientTLSConfig() (*tls.Config, error) { return m.ClientTLS.load("mysql") }

// BackendTLSConfig loads the backend TLS configuration (nil: TLS off).
func (m *MySQL) BackendTLSConfig() (*tls.Config, error) {
	return m.BackendTLS.load("mysql", m.Backend)
}

// ClientTLSConfig loads the client-facing TLS configuration (nil: TLS off).
func (p *Postgres) ClientTLSConfig() (*tls.Config, error) { return p.ClientTLS.load("postgres") }

// BackendTLSConfig loads the backend TLS configuration (nil: TLS off).
func (p *Postgres) BackendTLSConfig() (*tls.Config, error) {
	return p.BackendTLS.load("postgres", p.Backend)
}

func (c ClientTLS) load(section string) (*tls.Config, error) {
	if c.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s.client_tls: %w", section, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func (t BackendTLS) load(section, backend string) (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(backend)
		cfg.ServerName = host
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.backend_tls.ca_file: %w", section, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.backend_tls.ca_file: no PEM certificates in %s", section, t.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Secret returns an inline secret or the first line of its file.
func Secret(inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(s), nil
}
