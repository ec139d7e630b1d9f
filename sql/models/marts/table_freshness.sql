-- table_freshness: one row per raw table: how many rows it holds, the newest time its data
-- reaches (the column named in freshness_column; evses have none) and when it was last
-- loaded (the newest dlt load id among its rows is the load's start, in Unix seconds).
-- key: table_name
-- Incremental: the newest load id is read from the loads since the previous build only (a
-- literal DuckDB's zone maps skip older loads by; max() over every load id, as strings, was
-- 0.3 s of a 5 s nightly build at 60 days), the previous build's value standing otherwise.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='table_name',
) }}
{%- set since = since_load_id() if is_incremental() else none %}
{%- set tables = [
    ('evses', none),
    ('status_logs', 'sampled_at'),
    ('evse_command_logs', 'logged_at'),
    ('charging_sub_sessions', 'start'),
    ('dispatcher_logs', 'logged_at'),
] %}
with

{%- for table, column in tables %}

{{ table }} as (

    select
        '{{ table }}' as table_name,
        count(*) as count_rows,
        {{ "'" ~ column ~ "'" if column else 'cast(null as varchar)' }} as freshness_column,
        {{ 'max("' ~ column ~ '")' if column else 'cast(null as timestamptz)' }} as newest_at,
        {%- if since %}
        greatest(
            to_timestamp(try_cast((
                select max(_dlt_load_id)
                from {{ source('evenergy', table) }}
                where _dlt_load_id > {{ since }}
            ) as double)),
            (select last_loaded_at from {{ this }} where table_name = '{{ table }}')
        ) as last_loaded_at,
        {%- else %}
        -- the newest id is the newest load: dlt's ids are Unix seconds of equal width
        to_timestamp(try_cast(max(_dlt_load_id) as double)) as last_loaded_at,
        {%- endif %}

    from {{ source('evenergy', table) }}

),

{%- endfor %}

final as (

    {%- for table, column in tables %}
    select * from {{ table }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select * from final
