package discover

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// dialect is the SQL flavour of the target database.
type dialect uint8

const (
	dialectMySQL dialect = iota + 1
	dialectPostgres
)

// target is a parsed DSN: the database/sql driver name and its own DSN.
type target struct {
	dialect    dialect
	driver     string
	driverDSN  string
	database   string // MySQL database from the path; empty = all non-system
	redactedDS string // the DSN with the password removed, for messages
}

// parseDSN accepts mysql://user:pass@host:port/db?param=value (parameters are
// passed to go-sql-driver/mysql) and postgres:// or postgresql:// URLs
// (passed to pgx unchanged).
func parseDSN(dsn string) (target, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return target{}, fmt.Errorf("discover: bad DSN: %v", redactURLError(err))
	}
	redacted := u.Redacted()
	switch u.Scheme {
	case "mysql":
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" && u.Host != "" {
			cfg.Addr = u.Host + ":3306"
		}
		if u.Host == "" {
			return target{}, fmt.Errorf("discover: DSN %s has no host", redacted)
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		if strings.Contains(cfg.DBName, "/") {
			return target{}, fmt.Errorf("discover: DSN %s: database name contains '/'", redacted)
		}
		if len(u.Query()) > 0 {
			cfg.Params = map[string]string{}
			for k, v := range u.Query() {
				cfg.Params[k] = v[len(v)-1]
			}
		}
		return target{dialect: dialectMySQL, driver: "mysql", driverDSN: cfg.FormatDSN(), database: cfg.DBName, redactedDS: redacted}, nil
	case "postgres", "postgresql":
		if u.Host == "" {
			return target{}, fmt.Errorf("discover: DSN %s has no host", redacted)
		}
		return target{dialect: dialectPostgres, driver: "pgx", driverDSN: dsn, redactedDS: redacted}, nil
	}
	return target{}, fmt.Errorf("discover: DSN scheme %q not supported (use mysql:// or postgres://)", u.Scheme)
}

// redactURLError drops the URL (which may hold a password) from a url.Error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
