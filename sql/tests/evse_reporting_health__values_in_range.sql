-- evse_reporting_health: a day has samples exactly when it has a first and last sample, gaps
-- are positive and the null share lies in [0, 1]. Returns every row that breaks this.
select *
from {{ ref('evse_reporting_health') }}
where
    count_samples < 0
    or (count_samples > 0) <> (first_sampled_at is not null and last_sampled_at is not null)
    or max_gap_seconds <= 0
    or is_charging_null_share not between 0 and 1
