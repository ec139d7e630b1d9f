-- stg_evse_command_logs: the key (evse_id, logged_at) is unique.
-- Returns one row per duplicated key.
select
    evse_id,
    logged_at,
    count(*) as count_rows,
from analytics.stg_evse_command_logs
group by evse_id, logged_at
having count(*) > 1
