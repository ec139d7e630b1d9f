-- table_freshness: one row per raw table: how many rows it holds, the newest time its data
-- reaches (the column named in freshness_column; evses have none) and when it was last
-- loaded (the newest dlt load id among its rows is the load's start, in Unix seconds).
-- key: table_name
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
        to_timestamp(max(try_cast(_dlt_load_id as double))) as last_loaded_at,

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
