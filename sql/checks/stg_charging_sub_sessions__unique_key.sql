-- stg_charging_sub_sessions: the key (charging_sub_session_id) is unique.
-- Returns one row per duplicated key.
select
    charging_sub_session_id,
    count(*) as count_rows,
from analytics.stg_charging_sub_sessions
group by charging_sub_session_id
having count(*) > 1
