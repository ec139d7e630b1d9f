-- daily_dispatch_effectiveness_by_make: the outcome, compliance and target_outcome counts each add up to
-- count_attempts, and the rates lie in [0, 1]. Returns every row that breaks this.
select *
from {{ ref('daily_dispatch_effectiveness_by_make') }}
where
    count_not_sent + count_no_telemetry + count_effective + count_no_response
    <> count_attempts
    or count_not_sent + count_no_target + count_compliance_unknown + count_complied
    + count_not_complied <> count_attempts
    or count_not_sent + count_no_target + count_target_no_telemetry + count_target_held
    + count_target_reached + count_target_not_reached <> count_attempts
    or count_sent <> count_attempts - count_not_sent
    or effectiveness_rate not between 0 and 1
    or compliance_rate not between 0 and 1
    or target_success_rate not between 0 and 1
