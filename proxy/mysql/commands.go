package mysql

import gm "github.com/go-mysql-org/go-mysql/mysql"

// MariaDB-only commands not named in go-mysql's constants.
const (
	comStmtBulkExecute = 0xfa
	comMulti           = 0xfe
)

// commandName is the stable name of a command byte for metrics and audit.
func commandName(c byte) string {
	switch c {
	case gm.COM_QUIT:
		return "quit"
	case gm.COM_INIT_DB:
		return "init_db"
	case gm.COM_QUERY:
		return "query"
	case gm.COM_FIELD_LIST:
		return "field_list"
	case gm.COM_STATISTICS:
		return "statistics"
	case gm.COM_PROCESS_KILL:
		return "process_kill"
	case gm.COM_PING:
		return "ping"
	case gm.COM_CHANGE_USER:
		return "change_user"
	case gm.COM_STMT_PREPARE:
		return "prepare"
	case gm.COM_STMT_EXECUTE:
		return "execute"
	case gm.COM_STMT_SEND_LONG_DATA:
		return "send_long_data"
	case gm.COM_STMT_CLOSE:
		return "stmt_close"
	case gm.COM_STMT_RESET:
		return "stmt_reset"
	case gm.COM_SET_OPTION:
		return "set_option"
	case gm.COM_STMT_FETCH:
		return "fetch"
	case gm.COM_RESET_CONNECTION:
		return "reset_connection"
	case gm.COM_BINLOG_DUMP, gm.COM_BINLOG_DUMP_GTID, gm.COM_REGISTER_SLAVE, gm.COM_TABLE_DUMP:
		return "replication"
	}
	return "other"
}
