-- daily_fleet_reporting: the reporting EVSEs are part of the fleet and the share is their
-- ratio; the fleet never shrinks from one day to the next. Returns every row that breaks this.
with

days as (

    select
        *,
        lag(count_fleet_evses) over (order by date) as count_fleet_evses_before,

    from {{ ref('daily_fleet_reporting') }}

)

select *
from days
where
    count_reporting_evses > count_fleet_evses
    or count_fleet_evses < 1
    or share_reporting not between 0 and 1
    or abs(share_reporting - count_reporting_evses / count_fleet_evses) > 1e-9
    or count_fleet_evses < count_fleet_evses_before
