-- stg_evses: the key (evse_id) is unique.
-- Returns one row per duplicated key.
select
    evse_id,
    count(*) as count_rows,
from analytics.stg_evses
group by evse_id
having count(*) > 1
