-- stg_status_logs: no key column (evse_id, sampled_at) is null.
-- Returns every row with a null key column.
select *
from analytics.stg_status_logs
where
    evse_id is null
    or sampled_at is null
