-- daily_dispatch_effectiveness: every attempt of dispatch_effectiveness is counted on exactly
-- one day. Returns one row when the totals differ.
with

daily_dispatch_effectiveness as (

    select sum(count_attempts) as count_attempts
    from {{ ref('daily_dispatch_effectiveness') }}

),

dispatch_effectiveness as (

    select count(*) as count_attempts from {{ ref('dispatch_effectiveness') }}

)

select
    daily_dispatch_effectiveness.count_attempts as count_daily_attempts,
    dispatch_effectiveness.count_attempts as count_dispatch_attempts,
from daily_dispatch_effectiveness
cross join dispatch_effectiveness
where
    coalesce(daily_dispatch_effectiveness.count_attempts, 0)
    <> dispatch_effectiveness.count_attempts
