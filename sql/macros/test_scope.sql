{#- What the data tests of an incremental build test: the rows this build can have changed.

    A test whose YAML config says `where: "__written_by_this_build__"` (dbt's `where` config,
    with a placeholder: a `where` is plain text, rendered before the build starts) tests, in
    an incremental build, only the rows at or after the bound of its model below, plus the
    rows whose bound column is null; in a full refresh, or a build by hand, every row. Each
    bound is a literal read at test time, so DuckDB skips the older row groups (zone maps)
    and pushes it through the staging views' deduplication. Tests the history otherwise:
    unique/not_null on 60 days x 500 EVSEs took 10 of the nightly build's 27 s.

    Why the rows below the bound need no test: a staging view's rows below it are the rows
    loaded before the previous build, which that build tested; an incremental model's rows
    below it are the rows this build did not write (int_dispatch_changes lists every attempt
    it recomputes, and each attempt's rows share its logged_at). sql/README.md says the same
    for analysts. -#}

{#- The tested model's column and the earliest value this build can have changed in it
    (none: nothing changed). Relations come from dbt's `graph`, not ref() or source(): called
    only here, at test time, those fail a dependency the parser did not see. -#}
{% macro written_bound(model_name) -%}
    {%- set loaded = {
        'stg_status_logs': ('sampled_at', 'status_logs'),
        'stg_dispatcher_logs': ('logged_at', 'dispatcher_logs'),
        'stg_evse_command_logs': ('logged_at', 'evse_command_logs'),
    } -%}
    {%- set recomputed = (
        'int_dispatch_changes', 'int_dispatch_attempts', 'int_dispatch_window_samples',
        'dispatch_effectiveness',
    ) -%}
    {%- if model_name in loaded -%}
        {%- set column, table = loaded[model_name] -%}
        {%- set raw = graph.sources['source.evenergy.evenergy.' ~ table].relation_name -%}
        {#- the staging model reads the raw column under the same name -#}
        {%- set sql = "select min(" ~ column ~ ") from " ~ raw
            ~ " where _dlt_load_id > " ~ since_load_id() -%}
    {%- elif model_name in recomputed -%}
        {%- set column = 'logged_at' -%}
        {%- set changes = graph.nodes['model.evenergy.int_dispatch_changes'].relation_name -%}
        {%- set sql = "select min(logged_at) from " ~ changes -%}
    {%- else -%}
        {{- exceptions.raise_compiler_error(
            "__written_by_this_build__: no bound for " ~ model_name ~ " (macros/test_scope.sql)") -}}
    {%- endif -%}
    {{- return((column, scalar(sql))) -}}
{%- endmacro %}

{#- The predicate of the rows an incremental build tests in `model_name` ("true": all). -#}
{% macro written_by_this_build(model_name) -%}
    {%- if not execute or not since_load_id() -%}
        {{- return("true") -}}
    {%- endif -%}
    {%- if model_name in ('status_logs', 'dispatcher_logs', 'evse_command_logs') -%}
        {#- a raw table (a source test): the rows loaded since the previous build -#}
        {{- return("_dlt_load_id > " ~ since_load_id()) -}}
    {%- endif -%}
    {%- set column, value = written_bound(model_name) -%}
    {%- set literal = "cast('infinity' as timestamptz)" if value is none
        else timestamp_literal(value) -%}
    {%- if model_name == 'stg_status_logs' -%}
        {#- "or sampled_at is null" would make DuckDB search the whole table for duplicates
            (5 s at 60 days): a source test checks the new rows' sampled_at instead -#}
        {{- return(column ~ " >= " ~ literal) -}}
    {%- endif -%}
    {{- return("(" ~ column ~ " >= " ~ literal ~ " or " ~ column ~ " is null)") -}}
{%- endmacro %}

{#- dbt's get_where_subquery, with the placeholder above (the override dbt documents for
    macros in `where`). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__written_by_this_build__' in where -%}
        {%- set where = where | replace(
            '__written_by_this_build__', written_by_this_build(relation.identifier)) -%}
    {%- endif -%}
    {%- if where -%}
        {{- return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") -}}
    {%- endif -%}
    {{- return(relation) -}}
{%- endmacro %}
