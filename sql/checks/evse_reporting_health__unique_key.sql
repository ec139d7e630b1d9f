-- evse_reporting_health: the key (evse_id, date) is unique.
-- Returns one row per duplicated key.
select
    evse_id,
    date,
    count(*) as count_rows,
from analytics.evse_reporting_health
group by evse_id, date
having count(*) > 1
