-- stg_dispatcher_logs: no key column (charging_sub_session_id, internal_command_id, logged_at) is null.
-- Returns every row with a null key column.
select *
from analytics.stg_dispatcher_logs
where
    charging_sub_session_id is null
    or internal_command_id is null
    or logged_at is null
