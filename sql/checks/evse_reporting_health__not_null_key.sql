-- evse_reporting_health: no key column (evse_id, date) is null.
-- Returns every row with a null key column.
select *
from analytics.evse_reporting_health
where
    evse_id is null
    or date is null
