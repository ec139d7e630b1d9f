-- dispatch_effectiveness: exactly one row per (deduplicated) dispatcher log, so no join fanned
-- out or dropped attempts. Returns one row when the counts differ. An incremental build
-- counts the logs from the first attempt it recomputed on (macros/test_scope.sql): every log
-- loaded since the previous build is among those.
with

dispatcher_logs as (

    select count(*) as count_rows from {{ ref('stg_dispatcher_logs') }}
    where {{ written_by_this_build('dispatch_effectiveness') }}

),

dispatch_effectiveness as (

    select count(*) as count_rows from {{ ref('dispatch_effectiveness') }}
    where {{ written_by_this_build('dispatch_effectiveness') }}

)

select
    dispatcher_logs.count_rows as count_dispatcher_logs,
    dispatch_effectiveness.count_rows as count_dispatch_effectiveness,
from dispatcher_logs
cross join dispatch_effectiveness
where dispatcher_logs.count_rows <> dispatch_effectiveness.count_rows
