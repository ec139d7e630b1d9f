-- stg_status_logs: the key (evse_id, sampled_at) is unique.
-- Returns one row per duplicated key.
select
    evse_id,
    sampled_at,
    count(*) as count_rows,
from analytics.stg_status_logs
group by evse_id, sampled_at
having count(*) > 1
