-- daily_dispatch_effectiveness: one row per UTC day of logged_at and device_type, the
-- dispatch measures of dispatch_effectiveness summed over that day's attempts, with the
-- fleet's size and the share of it reporting that day (daily_fleet_reporting).
-- key: (date, device_type)
-- Incremental: the days from the first one whose attempts or fleet figures changed are
-- recomputed.
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

daily_fleet_reporting as (

    select * from {{ ref('daily_fleet_reporting') }}

),

daily as (

    select
        date,
        device_type,
        {{ dispatch_counts() }}
        bool_or(is_provisional) as is_provisional,

    from dispatch_effectiveness
    group by date, device_type

),

final as (

    select
        daily.* exclude (is_provisional),
        {{ dispatch_rates('daily.') }}
        coalesce(daily_fleet_reporting.count_fleet_evses, 0) as count_fleet_evses,
        coalesce(daily_fleet_reporting.count_reporting_evses, 0) as count_reporting_evses,
        daily_fleet_reporting.share_reporting,
        daily.is_provisional or coalesce(daily_fleet_reporting.is_provisional, false)
            as is_provisional,

    from daily
    left join daily_fleet_reporting
        on daily.date = daily_fleet_reporting.date

)

select * from final
