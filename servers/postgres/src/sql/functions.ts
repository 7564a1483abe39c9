/**
 * Functions a query may call, anywhere: select list, WHERE, ORDER BY, and FROM (set-returning
 * functions). Everything here is a pure computation over its arguments in `pg_catalog`: no file or
 * network access, no sleeping, no settings, no signals, no large objects, no sequences, no locks, no
 * catalog lookups by name, and nothing that runs SQL given as a string (`query_to_xml`, `ts_stat`,
 * `ts_rewrite` are left out for that reason). The guard qualifies every call with `pg_catalog.` so
 * a same-named function elsewhere on the search path can never be picked instead.
 */
const SAFE_FUNCTIONS = `
  abs cbrt ceil ceiling degrees div erf erfc exp factorial floor gcd lcm ln log log10 min_scale mod pi
  power pow radians round scale sign sqrt trim_scale trunc width_bucket random random_normal
  acos acosd asin asind atan atand atan2 atan2d cos cosd cot cotd sin sind tan tand
  sinh cosh tanh asinh acosh atanh
  ascii bit_length btrim casefold char_length character_length chr concat concat_ws format initcap left
  length lower lpad ltrim md5 normalize is_normalized octet_length overlay position quote_ident
  quote_literal quote_nullable regexp_count regexp_instr regexp_like regexp_match regexp_matches
  regexp_replace regexp_split_to_array regexp_split_to_table regexp_substr repeat replace reverse right
  rpad rtrim split_part starts_with string_to_array string_to_table strpos substr substring to_hex to_bin
  to_oct translate unistr upper similar_to_escape like_escape pg_collation_for encode decode convert_from convert_to
  get_bit get_byte bit_count sha224 sha256 sha384 sha512 crc32 crc32c
  age clock_timestamp current_date date_add date_bin date_part date_subtract date_trunc extract isfinite
  justify_days justify_hours justify_interval localtime localtimestamp make_date make_interval make_time
  make_timestamp make_timestamptz now overlaps statement_timestamp timeofday timezone
  transaction_timestamp to_char to_date to_number to_timestamp
  array_agg avg bit_and bit_or bit_xor bool_and bool_or count every json_agg json_agg_strict jsonb_agg
  jsonb_agg_strict json_object_agg json_object_agg_strict json_object_agg_unique
  json_object_agg_unique_strict jsonb_object_agg jsonb_object_agg_strict jsonb_object_agg_unique
  jsonb_object_agg_unique_strict max min range_agg range_intersect_agg string_agg sum any_value corr
  covar_pop covar_samp regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx
  regr_sxy regr_syy stddev stddev_pop stddev_samp variance var_pop var_samp mode percentile_cont
  percentile_disc
  row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
  to_json to_jsonb array_to_json row_to_json json_build_array jsonb_build_array json_build_object
  jsonb_build_object json_object jsonb_object json_array_elements json_array_elements_text
  jsonb_array_elements jsonb_array_elements_text json_array_length jsonb_array_length json_each
  json_each_text jsonb_each jsonb_each_text json_extract_path json_extract_path_text jsonb_extract_path
  jsonb_extract_path_text json_object_keys jsonb_object_keys json_strip_nulls jsonb_strip_nulls
  json_typeof jsonb_typeof jsonb_pretty jsonb_set jsonb_set_lax jsonb_insert jsonb_path_exists
  jsonb_path_match jsonb_path_query jsonb_path_query_array jsonb_path_query_first jsonb_path_exists_tz
  jsonb_path_match_tz jsonb_path_query_tz jsonb_path_query_array_tz jsonb_path_query_first_tz
  json_to_record json_to_recordset jsonb_to_record jsonb_to_recordset
  array_append array_cat array_dims array_fill array_length array_lower array_ndims array_position
  array_positions array_prepend array_remove array_replace array_reverse array_sample array_shuffle
  array_sort array_to_string array_upper cardinality trim_array unnest generate_series generate_subscripts
  lower_inc upper_inc lower_inf upper_inf isempty range_merge int4range int8range numrange daterange
  tsrange tstzrange multirange
  to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd
  ts_headline setweight strip numnode querytree tsvector_to_array array_to_tsvector ts_delete ts_filter
  host hostmask masklen netmask network broadcast family abbrev set_masklen inet_same_family inet_merge
  num_nonnulls num_nulls pg_typeof current_database current_schema version gen_random_uuid uuidv4 uuidv7
  uuid_extract_timestamp uuid_extract_version
`;

/** Lower-case function names, all in `pg_catalog`. */
export const DEFAULT_SAFE_FUNCTIONS: ReadonlySet<string> = new Set(SAFE_FUNCTIONS.trim().split(/\s+/));

/** Where each callable function lives: name → schema to qualify it with. */
export type FunctionPolicy = ReadonlyMap<string, string>;

/**
 * The safe list plus the operator's extra functions (`name` for `pg_catalog.name`, or
 * `schema.name`, e.g. `public.similarity` from pg_trgm).
 */
export function functionPolicy(extra: readonly string[] = []): FunctionPolicy {
  const policy = new Map<string, string>();
  for (const name of DEFAULT_SAFE_FUNCTIONS) policy.set(name, "pg_catalog");
  for (const entry of extra) {
    const parts = entry.trim().split(".");
    if (parts.length > 2 || parts.some((p) => !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p))) {
      throw new Error(`invalid function name ${JSON.stringify(entry)}: use name or schema.name`);
    }
    const [schema, name] = parts.length === 2 ? (parts as [string, string]) : ["pg_catalog", parts[0] as string];
    policy.set(name.toLowerCase(), schema.toLowerCase());
  }
  return policy;
}

/**
 * Types a query may cast to. Built-in value types only: the `reg*` types look objects up by name
 * (and would reveal whether a hidden table exists), `xml` parses documents, and a table's row type
 * would describe a table the model may not see.
 */
const SAFE_TYPES = `
  bool boolean bytea char bpchar varchar text name int2 int4 int8 smallint integer int bigint float4 float8
  real numeric decimal money date time timetz timestamp timestamptz interval uuid json jsonb jsonpath inet
  cidr macaddr macaddr8 bit varbit tsvector tsquery int4range int8range numrange daterange tsrange tstzrange
  int4multirange int8multirange nummultirange datemultirange tsmultirange tstzmultirange point line lseg
  box path polygon circle
`;

export const SAFE_TYPES_SET: ReadonlySet<string> = new Set(SAFE_TYPES.trim().split(/\s+/));

/** Table sampling methods built into PostgreSQL. */
export const SAFE_SAMPLING_METHODS: ReadonlySet<string> = new Set(["system", "bernoulli"]);
