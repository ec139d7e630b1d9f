-- stg_evse_command_logs: no key column (evse_id, logged_at) is null.
-- Returns every row with a null key column.
select *
from analytics.stg_evse_command_logs
where
    evse_id is null
    or logged_at is null
