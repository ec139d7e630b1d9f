-- reporting_by_make_day: the make x day heatmap of reporting health: per make and UTC day,
-- the EVSEs in the fleet, those that sent a sample, and the share. One row per
-- (make_name, date) from the complete fleet grid (silent days count as not reporting).
select
    coalesce(make_name, '(unknown)') as make_name,
    date,
    count(*) as count_fleet_evses,
    count(*) filter (where count_samples > 0) as count_reporting_evses,
    count(*) filter (where count_samples > 0) / count(*) as share_reporting,
from analytics.evse_reporting_health
group by all
order by make_name, date
