package pgsql

import "strings"

// builtins are pg_catalog functions that read nothing but their arguments
// (and session or catalog state such as the clock, the current user or
// object names): string, numeric, date/time, json, array, regex, formatting
// and range functions, aggregates and window functions, and the catalog
// helpers psql and drivers call. A call to any other name may be a stored
// function whose body reads tables the analyser cannot see, so its result
// has unknown lineage. The table applies only to names that resolve to
// pg_catalog (see pathInfo.builtins).
//
// Deliberately absent: functions that run SQL given as text (ts_stat,
// ts_rewrite with a query, query_to_xml and friends are dangerous), read
// server files, or have side effects (see dangerousNames).
// builtinSince gives the server_version_num from which a name on the
// builtins list is in pg_catalog. On an older server an unqualified call
// resolves through the search_path to a function of that name in another
// schema, if there is one, so it is not taken as the built-in there. Names
// whose first version is not certain are given 18.
var builtinSince = map[string]int{
	"any_value": 160000, "array_sample": 160000, "array_shuffle": 160000, "date_add": 160000,
	"date_subtract": 160000, "erf": 160000, "erfc": 160000, "random_normal": 160000,
	"pg_input_error_info": 160000, "pg_input_is_valid": 160000, "has_largeobject_privilege": 160000,
	"json_agg_strict": 160000, "json_object_agg_strict": 160000, "json_object_agg_unique": 160000,
	"json_object_agg_unique_strict": 160000, "jsonb_agg_strict": 160000, "jsonb_object_agg_strict": 160000,
	"jsonb_object_agg_unique": 160000, "jsonb_object_agg_unique_strict": 160000, "system_user": 160000,
	"to_bin": 170000, "to_oct": 170000, "to_regtypemod": 170000, "uuid_extract_timestamp": 170000,
	"uuid_extract_version": 170000, "xmltext": 170000,
	"array_reverse": 180000, "array_sort": 180000, "casefold": 180000, "crc32": 180000, "crc32c": 180000,
	"gamma": 180000, "lgamma": 180000, "uuidv4": 180000, "uuidv7": 180000, "nextafter": 180000,
}

var builtins = setOf(`
abs acos acosd acosh age array_agg array_append array_cat array_dims array_fill array_length array_lower
array_ndims array_position array_positions array_prepend array_remove array_replace array_sample array_shuffle
array_to_json array_to_string array_to_tsvector array_upper ascii asin asind asinh atan atan2 atan2d atand atanh
any_value avg
bit_and bit_count bit_length bit_or bit_xor bool_and bool_or bpchar broadcast btrim
cardinality casefold cbrt ceil ceiling char_length character_length chr clock_timestamp coalesce col_description
concat concat_ws convert convert_from convert_to corr cos cosd cosh cot cotd count covar_pop covar_samp crc32 crc32c
cume_dist current_database current_query current_role current_schema current_schemas current_setting current_user
currval
date date_add date_bin date_part date_subtract date_trunc daterange decode degrees dense_rank div
encode every exp extract
factorial family first_value float4 float8 floor format format_type
gcd gen_random_uuid generate_series generate_subscripts get_bit get_byte getdatabaseencoding grouping
has_any_column_privilege has_column_privilege has_database_privilege has_foreign_data_wrapper_privilege
has_function_privilege has_language_privilege has_largeobject_privilege has_parameter_privilege has_schema_privilege
has_sequence_privilege has_server_privilege has_table_privilege has_tablespace_privilege has_type_privilege host hostmask
inet_client_addr inet_client_port inet_merge inet_same_family inet_server_addr inet_server_port initcap int2 int4
int4range int8 int8range interval isempty isfinite
json_agg json_agg_strict json_array_elements json_array_elements_text json_array_length json_build_array
json_build_object json_each json_each_text json_extract_path json_extract_path_text json_object json_object_agg
json_object_agg_strict json_object_agg_unique json_object_agg_unique_strict json_object_keys json_populate_record
json_populate_recordset json_strip_nulls json_to_record json_to_recordset json_typeof
jsonb_agg jsonb_agg_strict jsonb_array_elements jsonb_array_elements_text jsonb_array_length jsonb_build_array
jsonb_build_object jsonb_each jsonb_each_text jsonb_extract_path jsonb_extract_path_text jsonb_insert jsonb_object
jsonb_object_agg jsonb_object_agg_strict jsonb_object_agg_unique jsonb_object_agg_unique_strict jsonb_object_keys
jsonb_path_exists jsonb_path_exists_tz jsonb_path_match jsonb_path_match_tz jsonb_path_query jsonb_path_query_array
jsonb_path_query_array_tz jsonb_path_query_first jsonb_path_query_first_tz jsonb_path_query_tz jsonb_populate_record
jsonb_populate_recordset jsonb_pretty jsonb_set jsonb_set_lax jsonb_strip_nulls jsonb_to_record jsonb_to_recordset
jsonb_typeof justify_days justify_hours justify_interval
lag last_value lastval lcm lead left length like_escape ln localtime localtimestamp log log10 lower lower_inc
lower_inf lpad ltrim
make_date make_interval make_time make_timestamp make_timestamptz makeaclitem masklen max md5 min min_scale mod mode
numnode is_normalized uuidv4 uuidv7 uuid_extract_timestamp uuid_extract_version array_reverse array_sort erf erfc gamma lgamma to_bin to_oct
name netmask network nextafter normalize now nth_value ntile nullif num_nonnulls num_nulls numeric numrange
obj_description octet_length overlaps overlay
parse_ident percent_rank percentile_cont percentile_disc pg_backend_pid pg_char_to_encoding pg_client_encoding
pg_collation_for pg_collation_is_visible pg_column_compression pg_column_size pg_conf_load_time
pg_conversion_is_visible pg_current_snapshot pg_current_xact_id_if_assigned pg_database_size pg_describe_object
pg_encoding_max_length pg_encoding_to_char pg_function_is_visible pg_get_constraintdef pg_get_expr
pg_get_function_arguments pg_get_function_identity_arguments pg_get_function_result pg_get_functiondef
pg_get_indexdef pg_get_keywords pg_get_partition_constraintdef pg_get_partkeydef pg_get_ruledef pg_get_serial_sequence
pg_get_statisticsobjdef pg_get_statisticsobjdef_columns pg_get_statisticsobjdef_expressions pg_get_triggerdef
pg_get_userbyid pg_get_viewdef pg_has_role pg_identify_object pg_identify_object_as_address pg_index_column_has_property
pg_index_has_property pg_indexam_has_property pg_indexes_size pg_input_error_info pg_input_is_valid pg_is_in_recovery
pg_is_other_temp_schema pg_jit_available pg_my_temp_schema pg_opclass_is_visible pg_operator_is_visible
pg_opfamily_is_visible pg_options_to_table pg_postmaster_start_time pg_relation_is_publishable pg_relation_size
pg_size_bytes pg_size_pretty pg_statistics_obj_is_visible pg_table_is_visible pg_table_size pg_tablespace_location
pg_tablespace_size pg_total_relation_size pg_trigger_depth pg_ts_config_is_visible pg_ts_dict_is_visible
pg_ts_parser_is_visible pg_ts_template_is_visible pg_type_is_visible pg_typeof pg_visible_in_snapshot pg_xact_status
phraseto_tsquery pi plainto_tsquery position power pow quote_ident quote_literal quote_nullable querytree
radians random random_normal range_agg range_intersect_agg range_merge rank regexp_count regexp_instr regexp_like
regexp_match regexp_matches regexp_replace regexp_split_to_array regexp_split_to_table regexp_substr
regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy repeat replace reverse
right round row_number row_security_active row_to_json rpad rtrim
scale session_user set_bit set_byte set_masklen setweight sha224 sha256 sha384 sha512 shobj_description sign
similar_escape similar_to_escape sin sind sinh split_part sqrt starts_with statement_timestamp stddev stddev_pop
stddev_samp string_agg string_to_array string_to_table strip strpos substr substring sum system_user
tan tand tanh text time timeofday timestamp timestamptz timezone to_ascii to_char to_date to_hex
to_json to_jsonb to_number to_regclass to_regcollation to_regnamespace to_regoper to_regoperator to_regproc
to_regprocedure to_regrole to_regtype to_regtypemod to_timestamp to_tsquery to_tsvector transaction_timestamp
translate trim_array trim_scale trunc ts_headline ts_rank ts_rank_cd tsrange tstzrange txid_current_if_assigned
txid_current_snapshot txid_snapshot_xip txid_snapshot_xmax txid_snapshot_xmin txid_status txid_visible_in_snapshot
unistr unnest upper upper_inc upper_inf user
var_pop var_samp variance varchar version
websearch_to_tsquery width_bucket
xml_is_well_formed xml_is_well_formed_content xml_is_well_formed_document xmlagg xmlcomment xmlexists xmltext
xpath xpath_exists
`)

// aggregates are the built-in aggregate functions (ordered-set and
// hypothetical-set aggregates included).
var aggregates = setOf(`
any_value array_agg avg bit_and bit_or bit_xor bool_and bool_or corr count covar_pop covar_samp every
json_agg json_agg_strict json_object_agg json_object_agg_strict json_object_agg_unique json_object_agg_unique_strict
jsonb_agg jsonb_agg_strict jsonb_object_agg jsonb_object_agg_strict jsonb_object_agg_unique jsonb_object_agg_unique_strict
max min mode percentile_cont percentile_disc range_agg range_intersect_agg regr_avgx regr_avgy regr_count
regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy stddev stddev_pop stddev_samp string_agg sum
var_pop var_samp variance xmlagg
`)

// setReturning are the built-in set-returning functions: the number of
// rows they produce depends on their arguments, so their arguments shape
// the result (SELECT count(*) FROM generate_series(1, length(id_card))
// counts characters).
var setReturning = setOf(`
generate_series generate_subscripts unnest regexp_matches regexp_split_to_table string_to_table
json_array_elements jsonb_array_elements json_array_elements_text jsonb_array_elements_text json_each jsonb_each
json_each_text jsonb_each_text json_object_keys jsonb_object_keys jsonb_path_query jsonb_path_query_tz
json_populate_recordset jsonb_populate_recordset json_to_recordset jsonb_to_recordset pg_options_to_table
pg_get_keywords txid_snapshot_xip pg_snapshot_xip
`)

// dangerousNames are functions refused for restricted roles whatever their
// arguments: they read or write server files, run SQL given as text, reach
// other servers, signal or inspect other sessions, change settings, take
// advisory locks (a side channel between sessions), sleep, or write
// (sequences, transaction ids, replication state).
//
// nextval and setval change a sequence and are refused; currval and
// lastval only read the session's own state and are built-ins.
// txid_current and pg_current_xact_id assign a transaction id (a write);
// their _if_assigned variants are built-ins.
var dangerousNames = setOf(`
set_config pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file lo_export lo_import lo_get lo_open loread
lowrite lo_from_bytea lo_put lo_creat lo_create lo_unlink lo_truncate lo_truncate64 lo_lseek lo_lseek64 lo_tell
lo_tell64 lo_close
dblink query_to_xml query_to_xml_and_xmlschema query_to_xmlschema
pg_notify pg_sleep pg_sleep_for pg_sleep_until pg_terminate_backend pg_cancel_backend pg_reload_conf
pg_rotate_logfile pg_switch_wal pg_switch_xlog pg_promote pg_export_snapshot pg_import_system_collations
pg_file_write pg_file_rename pg_file_unlink pg_file_sync pg_logdir_ls pg_create_restore_point
pg_start_backup pg_stop_backup pg_backup_start pg_backup_stop pg_log_backend_memory_contexts
pg_drop_replication_slot pg_replication_slot_advance pg_current_logfile
nextval setval txid_current pg_current_xact_id ts_stat ts_rewrite
pg_blocking_pids pg_safe_snapshot_blocking_pids pg_get_backend_memory_contexts pg_stat_clear_snapshot
pg_stat_force_next_flush
`)

// dangerousPrefixes extend dangerousNames to function families.
var dangerousPrefixes = []string{
	"lo_", "dblink_", "table_to_xml", "cursor_to_xml", "schema_to_xml", "database_to_xml", "query_to_xml",
	"pg_sleep", "pg_advisory_", "pg_try_advisory_", "pg_stat_get_", "pg_stat_reset", "pg_stat_statements",
	"pg_create_", "pg_copy_", "pg_logical_", "pg_replication_", "pg_wal_", "pg_xlog_", "pg_ls_", "pg_read_",
	"pg_file_", "pg_stat_file", "pg_backup_",
}

// isDangerous reports whether a function (by its unqualified name) is refused whatever its arguments.
func isDangerous(name string) bool {
	if dangerousNames[name] {
		return true
	}
	for _, p := range dangerousPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// operators are the pg_catalog operators of the common built-in types
// (comparison, arithmetic, bit, string, pattern, regex, json, array, range,
// network, text search and geometric). A value through an operator not
// listed has unknown lineage (it may call a user function).
var operators = setOf(`
= <> != < > <= >= + - * / % ^ |/ ||/ @ & | # ~ << >> <<= >>= ||
~~ ~~* !~~ !~~* ~ ~* !~ !~* ~<~ ~<=~ ~>=~ ~>~ ^@
-> ->> #> #>> @> <@ ? ?| ?& #- @? @@ @@@
&& &< &> -|- <-> ## ?- ?-| ?|| @-@ <^ >^ ?# ~= <<| |>> &<| |&> !!
`)

// builtinTypes are pg_catalog types whose input and cast functions are
// built in. A cast to any other type (a domain, enum or composite type of a
// user schema) may run user code (domain CHECK constraints, casts WITH
// FUNCTION), so it counts as an unknown function.
var builtinTypes = setOf(`
bool boolean bytea char bpchar varchar name int2 int4 int8 int smallint integer bigint text oid tid xid xid8 cid
json jsonb jsonpath xml point lseg path box polygon line circle float4 float8 real numeric decimal money macaddr
macaddr8 inet cidr date time timetz timestamp timestamptz interval bit varbit uuid tsvector tsquery gtsvector
regproc regprocedure regoper regoperator regclass regtype regrole regnamespace regconfig regdictionary regcollation
pg_lsn txid_snapshot pg_snapshot int4range int8range numrange tsrange tstzrange daterange int4multirange
int8multirange nummultirange tsmultirange tstzmultirange datemultirange record unknown aclitem int2vector oidvector
refcursor anyelement anyarray
`)

// systemSchemas hold the server's own relations: their columns are known
// and never personal data, and reading them is recorded as SystemObjects.
var systemSchemas = setOf(`pg_catalog information_schema`)

// fnColumns names the output columns of built-in set-returning functions
// used in FROM whose columns are known: nil means one column named after
// the alias (or the function); composite results list their columns.
// Functions not listed have unknown output columns (unknown lineage)
// unless a column definition list names them.
var fnColumns = map[string][]string{
	"generate_series": nil, "generate_subscripts": nil, "unnest": nil, "regexp_split_to_table": nil,
	"regexp_matches": nil, "string_to_table": nil, "json_array_elements": nil, "jsonb_array_elements": nil,
	"json_array_elements_text": nil, "jsonb_array_elements_text": nil, "json_object_keys": nil,
	"jsonb_object_keys": nil, "jsonb_path_query": nil, "jsonb_path_query_tz": nil,
	"json_each": {"key", "value"}, "jsonb_each": {"key", "value"}, "json_each_text": {"key", "value"},
	"jsonb_each_text": {"key", "value"}, "pg_options_to_table": {"option_name", "option_value"},
	"pg_get_keywords": {"word", "catcode", "barelabel", "catdesc", "baredesc"},
	// Scalar built-ins are allowed in FROM too (one column).
	"now": nil, "current_date": nil, "lower": nil, "upper": nil, "length": nil, "random": nil, "version": nil,
	"current_setting": nil, "current_schema": nil, "current_schemas": nil, "current_database": nil,
	"to_char": nil, "date_trunc": nil, "array_length": nil, "string_to_array": nil, "regexp_split_to_array": nil,
	"json_build_object": nil, "jsonb_build_object": nil, "to_json": nil, "to_jsonb": nil, "row_to_json": nil,
}

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
