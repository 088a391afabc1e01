//go:build tools

// Package tools pins the module's dependencies that are wired in step by step,
// so that `go mod tidy` keeps them while their users are being written.
package tools

import (
	_ "github.com/go-mysql-org/go-mysql/mysql"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/pgproto3"
	_ "github.com/pganalyze/pg_query_go/v6"
	_ "github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/tjfoc/gmsm/sm3"
	_ "go.uber.org/zap"
	_ "golang.org/x/text/encoding/simplifiedchinese"
	_ "gopkg.in/yaml.v3"
)
