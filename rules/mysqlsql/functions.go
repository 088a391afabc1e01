package mysqlsql

import "strings"

// builtins are MariaDB built-in functions that read nothing but their
// arguments (and session state such as the clock or the current user). A
// call to any other name may be a stored function or UDF whose body reads
// tables the analyser cannot see, so its result has unknown lineage.
// Names are as the TiDB parser reports them (lower case).
var builtins = setOf(`
abs acos adddate addtime aes_decrypt aes_encrypt ascii asin atan atan2 avg
bin bit_and bit_count bit_length bit_or bit_xor
case cast ceil ceiling char char_length character_length charset chr coalesce coercibility collation compress concat concat_ws
connection_id conv convert convert_tz cos cot count crc32 curdate current_date current_role current_time current_timestamp current_user curtime
database date date_add date_format date_sub datediff day dayname dayofmonth dayofweek dayofyear decode default degrees des_decrypt des_encrypt
elt encode encrypt exp export_set extract extractvalue
field find_in_set floor format found_rows get_format from_base64 from_days from_unixtime
greatest group_concat
hex hour
if ifnull inet6_aton inet6_ntoa inet_aton inet_ntoa insert instr interval is_ipv4 is_ipv4_compat is_ipv4_mapped is_ipv6 isnull
json_array json_arrayagg json_array_append json_array_insert json_compact json_contains json_contains_path json_depth json_detailed
json_equals json_exists json_extract json_insert json_keys json_length json_loose json_merge json_merge_patch json_merge_preserve
json_normalize json_object json_objectagg json_overlaps json_query json_quote json_remove json_replace json_search json_set
json_type json_unquote json_valid json_value
last_day last_insert_id last_value lcase least left length ln localtime localtimestamp locate log log10 log2 lower lpad ltrim
make_set makedate maketime max md5 microsecond mid min minute mod month monthname
now nullif
oct octet_length ord
period_add period_diff pi position pow power
quarter quote
radians rand regexp regexp_instr regexp_replace regexp_substr repeat replace reverse right round row_count rpad rtrim
schema sec_to_time second session_user sha sha1 sha2 sign sin soundex space sqrt std stddev stddev_pop stddev_samp str_to_date strcmp
subdate substr substring substring_index subtime sum sysdate system_user
tan time time_format time_to_sec timediff timestamp timestampadd timestampdiff to_base64 to_days to_seconds trim truncate
ucase uncompress uncompressed_length unhex unix_timestamp updatexml upper user utc_date utc_time utc_timestamp uuid uuid_short
var_pop var_samp variance version week weekday weekofyear weight_string year yearweek
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value nth_value
`)

// dangerous are built-ins refused for restricted roles whatever their
// arguments: they read server files, block, or probe the server.
var dangerous = setOf(`
load_file sleep benchmark get_lock release_lock release_all_locks is_free_lock is_used_lock
master_pos_wait master_gtid_wait sys_exec sys_eval binlog_gtid_pos
`)

// aggregates are aggregate function names (also parsed as AggregateFuncExpr).
var aggregates = setOf(`avg bit_and bit_or bit_xor count group_concat json_arrayagg json_objectagg max min std stddev stddev_pop stddev_samp sum var_pop var_samp variance`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// systemSchemas are the schemas holding server state rather than user data.
var systemSchemas = setOf(`mysql information_schema performance_schema sys`)
