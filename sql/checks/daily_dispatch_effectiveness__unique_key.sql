-- daily_dispatch_effectiveness: the key (date, device_type) is unique.
-- Returns one row per duplicated key.
select
    date,
    device_type,
    count(*) as count_rows,
from analytics.daily_dispatch_effectiveness
group by date, device_type
having count(*) > 1
