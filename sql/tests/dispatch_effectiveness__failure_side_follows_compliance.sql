-- dispatch_effectiveness: failure_side is charger, vehicle or null; charger exactly when the
-- charger did not comply, vehicle exactly when it complied but the power did not follow.
-- Returns every row that breaks this.
select *
from (
    select * from {{ ref('dispatch_effectiveness') }}
    -- an incremental build: the attempts it recomputed (macros/test_scope.sql)
    where {{ written_by_this_build('dispatch_effectiveness') }}
) as dispatch_effectiveness
where
    (failure_side is not null and failure_side not in ('charger', 'vehicle'))
    or coalesce(failure_side = 'charger', false)
    <> coalesce(compliance = 'not_complied', false)
    or coalesce(failure_side = 'vehicle', false)
    <> coalesce(compliance = 'complied' and target_outcome = 'not_reached', false)
