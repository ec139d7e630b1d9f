-- compliance_seconds_by_make: how long complied commands took to be obeyed, per charger make:
-- the 10th, 25th, 50th, 75th and 90th percentiles of compliance_seconds (a box per make).
-- One row per make_name ('(unknown)' when the EVSE has none).
select
    coalesce(make_name, '(unknown)') as make_name,
    count(*) as count_complied,
    quantile_cont(compliance_seconds, 0.1) as p10_seconds,
    quantile_cont(compliance_seconds, 0.25) as p25_seconds,
    quantile_cont(compliance_seconds, 0.5) as median_seconds,
    quantile_cont(compliance_seconds, 0.75) as p75_seconds,
    quantile_cont(compliance_seconds, 0.9) as p90_seconds,
from analytics.dispatch_effectiveness
where compliance = 'complied' and compliance_seconds is not null
group by all
order by make_name
