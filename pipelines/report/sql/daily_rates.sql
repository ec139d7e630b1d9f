-- daily_rates: the fleet's daily compliance, target and state-change rates, all device types
-- together. One row per (date, measure). The rates are recomputed from the summed counts
-- (the mart's own definitions, sql/README.md), not averaged over device types.
with

daily as (

    select
        date,
        bool_or(is_provisional) as is_provisional,
        sum(count_complied) as count_complied,
        sum(count_not_complied) as count_not_complied,
        sum(count_target_reached + count_target_held) as count_target_ok,
        sum(count_target_not_reached) as count_target_not_reached,
        sum(count_effective) as count_effective,
        sum(count_no_response) as count_no_response,
    from analytics.daily_dispatch_effectiveness
    group by date

),

rates as (

    select
        date,
        is_provisional,
        count_complied / nullif(count_complied + count_not_complied, 0) as compliance,
        count_target_ok / nullif(count_target_ok + count_target_not_reached, 0) as target,
        count_effective / nullif(count_effective + count_no_response, 0) as state_change,
    from daily

)

select date, measure, rate, is_provisional
from (unpivot rates on compliance, target, state_change into name measure value rate)
order by date, measure
