-- stg_evses: no key column (evse_id) is null.
-- Returns every row with a null key column.
select *
from analytics.stg_evses
where
    evse_id is null
