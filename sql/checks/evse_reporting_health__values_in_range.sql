-- evse_reporting_health: each row counts at least one status log, gaps are positive and the
-- null share lies in [0, 1]. Returns every row that breaks this.
select *
from analytics.evse_reporting_health
where
    count_status_logs < 1
    or max_gap_seconds <= 0
    or is_charging_null_share not between 0 and 1
