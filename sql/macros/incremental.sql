{#- Incremental builds. The runner (pipelines/transform.py) records in the one-row table
    main._evenergy_model_build, before each build: since_load_id, the newest _dlt_load_id the
    previous successful build had seen, previous_data_through, that build's data_through, and
    this build's data_through (null since_load_id: a full refresh). They are read from the
    table at execution time rather than passed as vars, because changed vars make dbt parse
    the whole project again (seconds per build). int_dispatch_changes and
    int_reporting_changes turn them into what must be recomputed; each incremental model
    deletes those rows (pre-hook) and appends them recomputed. Run by hand (var build_state
    false), nothing is known about the last build and everything is recomputed. -#}

{#- One column of the runner's build state, or none. -#}
{% macro build_state(column) -%}
    {%- if var('build_state') and execute -%}
        {{- return(scalar("select " ~ column ~ " from main._evenergy_model_build")) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}

{#- The newest load id before this build, quoted, or none. -#}
{% macro since_load_id() -%}
    {%- set value = build_state('since_load_id') -%}
    {%- if value is not none -%}'{{ value }}'{%- endif -%}
{%- endmacro %}

{#- The previous build's data_through, or none. -#}
{% macro previous_data_through() -%}
    {{- return(build_state('previous_data_through')) -}}
{%- endmacro %}

{#- A scalar query's single value (at execution time; none while parsing). -#}
{% macro scalar(sql) -%}
    {%- if execute -%}
        {%- set value = run_query(sql).columns[0].values()[0] -%}
        {{- return(value) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}

{#- A timestamp as a SQL literal (the filter DuckDB can push into the raw table scan and its
    zone maps, which a subquery cannot), or a literal that keeps nothing out. -#}
{% macro timestamp_literal(value) -%}
    {%- if value is none -%}
        cast('-infinity' as timestamptz)
    {%- else -%}
        cast('{{ value }}' as timestamptz)
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: delete the rows of the attempts int_dispatch_changes lists. -#}
{% macro delete_changed_attempts() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        using {{ ref('int_dispatch_changes') }} as changes
        -- a literal too: the older row groups are skipped rather than joined
        where ({{ this }}.logged_at >= {{ changed_attempts_from() }} or {{ this }}.logged_at is null)
            and {{ this }}.charging_sub_session_id is not distinct from changes.charging_sub_session_id
            and {{ this }}.internal_command_id is not distinct from changes.internal_command_id
            and {{ this }}.logged_at is not distinct from changes.logged_at
    {%- endif -%}
{%- endmacro %}

{#- The first UTC day whose daily dispatch measures can have changed (none: nothing). -#}
{% macro first_changed_dispatch_date() -%}
    {{- return(scalar(
        "select least("
        ~ "(select cast(timezone('UTC', min(logged_at)) as date) from " ~ ref('int_dispatch_changes') ~ "), "
        ~ "(select min(recompute_from) from " ~ ref('int_reporting_changes') ~ "))"
    )) -}}
{%- endmacro %}

{#- Post-hook: the EVSE's make and model as of this build on every row (an incremental build
    recomputes only some rows; a renamed make must not leave two names). -#}
{% macro refresh_evse_dimensions() -%}
    {%- if is_incremental() -%}
        update {{ this }}
        set make_name = evses.make_name, model_name = evses.model_name
        from {{ ref('stg_evses') }} as evses
        where {{ this }}.evse_id = evses.evse_id
            and (
                {{ this }}.make_name is distinct from evses.make_name
                or {{ this }}.model_name is distinct from evses.model_name
            )
    {%- endif -%}
{%- endmacro %}

{#- The first UTC day that was provisional in the previous build (its end plus the upload
    delay had not passed that build's data_through), as a date literal, or none. -#}
{% macro provisional_from_date() -%}
    {%- set previous = previous_data_through() -%}
    {%- if previous is not none -%}
        cast({{ timestamp_literal(previous) }}
            - {{ param_interval('lookback_seconds') }} - interval 1 day as date)
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}


{#- The oldest logged_at of the attempts this build recomputes, as a literal ('infinity':
    none). -#}
{% macro changed_attempts_from() -%}
    {%- set first = scalar("select min(logged_at) from " ~ ref('int_dispatch_changes')) -%}
    {{- "cast('infinity' as timestamptz)" if first is none else timestamp_literal(first) -}}
{%- endmacro %}
