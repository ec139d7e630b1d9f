-- stg_charging_sub_sessions: no key column (charging_sub_session_id) is null.
-- Returns every row with a null key column.
select *
from analytics.stg_charging_sub_sessions
where
    charging_sub_session_id is null
