-- int_dispatch_changes: one row per dispatch attempt the incremental models recompute in this
-- build, because one of its inputs can have changed since the previous build:
--   - its dispatcher log or its sub-session (hence its EVSE) was loaded again or for the first
--     time (a _dlt_load_id newer than since_load_id);
--   - a command log carrying its internal_command_id was loaded (its target);
--   - its EVSE received a status log, on time or late, sampled at most W before it (its state
--     before, its voltage or its response window);
--   - it was provisional in the previous build: its response window plus the upload delay
--     ([sources.evenergy] lookback) had not closed by that build's data_through.
-- Without since_load_id (a build by hand) every attempt is listed.
-- key: (charging_sub_session_id, internal_command_id, logged_at)
-- depends_on: {{ source('evenergy', 'status_logs') }}, {{ source('evenergy', 'evse_command_logs') }},
--   {{ source('evenergy', 'dispatcher_logs') }}, {{ source('evenergy', 'charging_sub_sessions') }}
{%- set since = since_load_id() %}
{%- if since %}
    {#- The oldest logged_at any listed attempt can have, from each reason below: as a literal,
        the dispatcher logs' scan skips the older row groups instead of reading (and
        deduplicating) every dispatcher log each night. The reloaded sub-sessions and new
        command logs cost a narrow scan of two raw columns. -#}
    {%- set raw_dispatcher_logs = source('evenergy', 'dispatcher_logs') %}
    {%- set previous = previous_data_through() %}
    {%- set first = scalar(
        "select least("
        ~ "(select min(logged_at) from " ~ raw_dispatcher_logs ~ " where _dlt_load_id > " ~ since ~ "), "
        ~ "(select min(logged_at) from " ~ raw_dispatcher_logs ~ " where charging_sub_session_id in ("
        ~ "select id from " ~ source('evenergy', 'charging_sub_sessions')
        ~ " where _dlt_load_id > " ~ since ~ ")), "
        ~ "(select min(logged_at) from " ~ raw_dispatcher_logs ~ " where internal_command_id in ("
        ~ "select internal_command_id from " ~ source('evenergy', 'evse_command_logs')
        ~ " where _dlt_load_id > " ~ since ~ ")), "
        ~ "(select min(sampled_at) - " ~ param_interval('response_window_seconds') ~ " from "
        ~ source('evenergy', 'status_logs') ~ " where _dlt_load_id > " ~ since ~ ")"
        ~ (", " ~ timestamp_literal(previous) ~ " - " ~ param_interval('response_window_seconds')
            ~ " - " ~ param_interval('lookback_seconds') if previous is not none else "")
        ~ ")"
    ) %}
    {%- set first_literal = "cast('infinity' as timestamptz)" if first is none
        else timestamp_literal(first) %}
{%- endif %}
with

dispatcher_logs as (

    select * from {{ ref('stg_dispatcher_logs') }}
    {%- if since %}
    where logged_at >= {{ first_literal }}
    {%- endif %}

),

charging_sub_sessions as (

    select * from {{ ref('stg_charging_sub_sessions') }}

),

attempts as (

    select
        dispatcher_logs.charging_sub_session_id,
        dispatcher_logs.internal_command_id,
        dispatcher_logs.logged_at,
        charging_sub_sessions.evse_id,
        dispatcher_logs._dlt_load_id as dispatch_load_id,
        charging_sub_sessions._dlt_load_id as sub_session_load_id,

    from dispatcher_logs
    left join charging_sub_sessions
        on dispatcher_logs.charging_sub_session_id
        = charging_sub_sessions.charging_sub_session_id

),

{%- if since %}

new_samples as (

    select
        cast(evse_id as varchar) as evse_id,
        min(sampled_at) as first_new_sampled_at,

    from {{ source('evenergy', 'status_logs') }}
    where _dlt_load_id > {{ since }}
    group by all

),

new_targets as (

    select distinct cast(internal_command_id as varchar) as internal_command_id
    from {{ source('evenergy', 'evse_command_logs') }}
    where _dlt_load_id > {{ since }} and internal_command_id is not null

),

changed as (

    select attempts.*
    from attempts
    left join new_samples
        on attempts.evse_id = new_samples.evse_id
    where
        attempts.dispatch_load_id > {{ since }}
        or attempts.sub_session_load_id > {{ since }}
        or attempts.internal_command_id in (select internal_command_id from new_targets)
        or attempts.logged_at + {{ param_interval('response_window_seconds') }}
        >= new_samples.first_new_sampled_at
        {%- set previous = previous_data_through() %}
        {%- if previous is not none %}
        or attempts.logged_at
        + {{ param_interval('response_window_seconds') }}
        + {{ param_interval('lookback_seconds') }}
        > {{ timestamp_literal(previous) }}
        {%- endif %}

),

{%- else %}

changed as (

    select * from attempts

),

{%- endif %}

final as (

    select
        charging_sub_session_id,
        internal_command_id,
        logged_at,
        evse_id,

    from changed

)

select * from final
