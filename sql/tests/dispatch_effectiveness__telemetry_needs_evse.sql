-- dispatch_effectiveness: an attempt without an EVSE, or without a state before it, has no
-- telemetry to judge by, so it is not_sent or no_telemetry. Returns every row that breaks this.
select *
from (
    select * from {{ ref('dispatch_effectiveness') }}
    -- an incremental build: the attempts it recomputed (macros/test_scope.sql)
    where {{ written_by_this_build('dispatch_effectiveness') }}
) as dispatch_effectiveness
where
    (evse_id is null or pre_sampled_at is null)
    and outcome not in ('not_sent', 'no_telemetry')
