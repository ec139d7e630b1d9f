-- daily_dispatch_effectiveness_by_make: one row per UTC day of logged_at, device_type and
-- the EVSE's make, the measures of daily_dispatch_effectiveness over that day's attempts on
-- chargers of that make ('(unknown)' when the EVSE, or its make, is not known, e.g. vehicle
-- commands).
-- key: (date, device_type, make_name)
-- Incremental like daily_dispatch_effectiveness.
-- depends_on: {{ ref('int_dispatch_changes') }}, {{ ref('int_reporting_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_days() }}",
) }}
with

dispatch_effectiveness as (

    select * from {{ ref('dispatch_effectiveness') }}
    {{ changed_days_filter() }}

),

daily as (

    select
        date,
        device_type,
        coalesce(make_name, '(unknown)') as make_name,
        {{ dispatch_counts() }}
        bool_or(is_provisional) as is_provisional,

    from dispatch_effectiveness
    group by all

),

final as (

    select
        daily.* exclude (is_provisional),
        {{ dispatch_rates('daily.') }}
        daily.is_provisional,

    from daily

)

select * from final
