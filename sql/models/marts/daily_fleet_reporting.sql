-- daily_fleet_reporting: one row per UTC day from the first status log to the last loaded
-- day: how many EVSEs the fleet had (those whose first status log was on or before the day)
-- and how many of them reported at least one sample.
-- key: date
with

evse_reporting_health as (

    select * from {{ ref('evse_reporting_health') }}

),

final as (

    select
        date,
        count(*) as count_fleet_evses,
        count(*) filter (where count_samples > 0) as count_reporting_evses,
        count(*) filter (where count_samples > 0) / count(*) as share_reporting,
        bool_or(is_provisional) as is_provisional,

    from evse_reporting_health
    group by date

)

select * from final
