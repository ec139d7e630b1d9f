-- daily_rates_by_make: daily compliance, target and state-change rates per charger make,
-- all device types together. One row per (date, make_name, measure); a day whose make had
-- nothing to measure for a rate has no row for it (unpivot drops nulls).
with

daily as (

    select
        date,
        make_name,
        bool_or(is_provisional) as is_provisional,
        sum(count_complied) as count_complied,
        sum(count_not_complied) as count_not_complied,
        sum(count_target_reached + count_target_held) as count_target_ok,
        sum(count_target_not_reached) as count_target_not_reached,
        sum(count_effective) as count_effective,
        sum(count_no_response) as count_no_response,
    from analytics.daily_dispatch_effectiveness_by_make
    group by date, make_name

),

rates as (

    select
        date,
        make_name,
        is_provisional,
        count_complied / nullif(count_complied + count_not_complied, 0) as compliance,
        count_target_ok / nullif(count_target_ok + count_target_not_reached, 0) as target,
        count_effective / nullif(count_effective + count_no_response, 0) as state_change,
    from daily

)

select date, make_name, measure, rate, is_provisional
from (unpivot rates on compliance, target, state_change into name measure value rate)
order by date, make_name, measure
