package main

import (
	gm "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/dbfence/dbfence/masking"
	mysqlproxy "github.com/dbfence/dbfence/proxy/mysql"
	pgproxy "github.com/dbfence/dbfence/proxy/postgres"
	"github.com/dbfence/dbfence/rules"
)

// maskerFactory builds the maskers the policy names (masking.New).
func maskerFactory(algorithm string, params map[string]string) (rules.Masker, error) {
	return masking.New(algorithm, params)
}

// mysqlMaskTyped gives masked cells of non-string MySQL columns a value of
// their own type (masking.MaskTyped), or NULL.
var mysqlMaskTyped mysqlproxy.TypedMasker = func(m rules.Masker, dst, src []byte, mysqlType byte) ([]byte, bool) {
	return masking.MaskTyped(m, dst, src, mysqlValueType(mysqlType))
}

// mysqlValueType maps a MySQL column type to the masking type family.
func mysqlValueType(t byte) masking.ValueType {
	switch t {
	case gm.MYSQL_TYPE_TINY, gm.MYSQL_TYPE_SHORT, gm.MYSQL_TYPE_INT24, gm.MYSQL_TYPE_LONG, gm.MYSQL_TYPE_LONGLONG:
		return masking.Integer
	case gm.MYSQL_TYPE_DECIMAL, gm.MYSQL_TYPE_NEWDECIMAL:
		return masking.Decimal
	case gm.MYSQL_TYPE_FLOAT, gm.MYSQL_TYPE_DOUBLE:
		return masking.Float
	case gm.MYSQL_TYPE_DATE, gm.MYSQL_TYPE_NEWDATE:
		return masking.Date
	case gm.MYSQL_TYPE_DATETIME, gm.MYSQL_TYPE_TIMESTAMP, gm.MYSQL_TYPE_DATETIME2, gm.MYSQL_TYPE_TIMESTAMP2:
		return masking.DateTime
	case gm.MYSQL_TYPE_TIME, gm.MYSQL_TYPE_TIME2:
		return masking.Time
	case gm.MYSQL_TYPE_YEAR:
		return masking.Year
	case gm.MYSQL_TYPE_VARCHAR, gm.MYSQL_TYPE_VAR_STRING, gm.MYSQL_TYPE_STRING, gm.MYSQL_TYPE_ENUM,
		gm.MYSQL_TYPE_SET, gm.MYSQL_TYPE_JSON:
		return masking.String
	case gm.MYSQL_TYPE_TINY_BLOB, gm.MYSQL_TYPE_MEDIUM_BLOB, gm.MYSQL_TYPE_LONG_BLOB, gm.MYSQL_TYPE_BLOB:
		return masking.Binary
	}
	return masking.Other
}

// maskerForCharset adapts a masker to gbk/gb18030 results (masking.ForCharset).
func maskerForCharset(m rules.Masker, charset string) (rules.Masker, error) {
	return masking.ForCharset(m, charset)
}

// pgMaskTyped gives masked cells of non-text PostgreSQL columns a value of
// their own type in text format (masking.MaskTyped), or NULL: binary-format
// cells, timestamptz (whose text carries a zone the masked form lacks) and
// types masking has no form for.
var pgMaskTyped pgproxy.TypedMasker = func(m rules.Masker, dst, src []byte, typeOID uint32, binary bool) ([]byte, bool) {
	if binary {
		return dst, false
	}
	t := pgValueType(typeOID)
	if t == masking.Other {
		return dst, false
	}
	return masking.MaskTyped(m, dst, src, t)
}

// pgValueType maps a PostgreSQL type OID to the masking type family
// (masking.Other: no typed form).
func pgValueType(oid uint32) masking.ValueType {
	switch oid {
	case 20, 21, 23: // int8, int2, int4
		return masking.Integer
	case 1700: // numeric
		return masking.Decimal
	case 700, 701: // float4, float8
		return masking.Float
	case 1082: // date
		return masking.Date
	case 1114: // timestamp
		return masking.DateTime
	case 1083: // time
		return masking.Time
	}
	return masking.Other
}
