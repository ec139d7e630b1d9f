-- fleet_reporting_share: the share of the fleet that sent at least one status sample, per
-- UTC day. One row per date.
select
    date,
    count_fleet_evses,
    count_reporting_evses,
    share_reporting,
    is_provisional,
from analytics.daily_fleet_reporting
order by date
