-- fleet_size: the header's fleet size, the EVSEs known on the last day of the fleet grid.
select date, count_fleet_evses, count_reporting_evses,
from analytics.daily_fleet_reporting
order by date desc
limit 1
