-- daily_dispatch_effectiveness: no key column (date, device_type) is null.
-- Returns every row with a null key column.
select *
from analytics.daily_dispatch_effectiveness
where
    date is null
    or device_type is null
