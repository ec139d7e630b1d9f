-- evse_dispatch_effectiveness: no key column (evse_id) is null.
-- Returns every row with a null key column.
select *
from analytics.evse_dispatch_effectiveness
where
    evse_id is null
