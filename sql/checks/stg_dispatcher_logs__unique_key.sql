-- stg_dispatcher_logs: the key (charging_sub_session_id, internal_command_id, logged_at) is unique.
-- Returns one row per duplicated key.
select
    charging_sub_session_id,
    internal_command_id,
    logged_at,
    count(*) as count_rows,
from analytics.stg_dispatcher_logs
group by charging_sub_session_id, internal_command_id, logged_at
having count(*) > 1
