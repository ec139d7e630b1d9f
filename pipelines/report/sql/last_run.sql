-- last_run: the header's newest run and how it ended.
select run_id, started_at, ended_at, outcome, exit_code, stop_reason, duration_seconds,
from analytics.pipeline_runs
order by started_at desc
limit 1
