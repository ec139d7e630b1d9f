-- dispatch_effectiveness: response_seconds is set exactly for effective attempts,
-- compliance_seconds for complied ones and target_response_seconds for reached ones, and each
-- lies in the response window (0, W]. Returns every row that breaks this.
with

dispatch_effectiveness as (

    select * from {{ ref('dispatch_effectiveness') }}
    -- an incremental build: the attempts it recomputed (macros/test_scope.sql)
    where {{ written_by_this_build('dispatch_effectiveness') }}

),

model_parameters as (

    select * from {{ ref('model_parameters') }}

)

select dispatch_effectiveness.*
from dispatch_effectiveness
cross join model_parameters
where
    coalesce(dispatch_effectiveness.outcome = 'effective', false)
    <> (dispatch_effectiveness.response_seconds is not null)
    or coalesce(dispatch_effectiveness.compliance = 'complied', false)
    <> (dispatch_effectiveness.compliance_seconds is not null)
    or coalesce(dispatch_effectiveness.target_outcome = 'reached', false)
    <> (dispatch_effectiveness.target_response_seconds is not null)
    or dispatch_effectiveness.response_seconds <= 0
    or dispatch_effectiveness.response_seconds > model_parameters.response_window_seconds
    or dispatch_effectiveness.compliance_seconds <= 0
    or dispatch_effectiveness.compliance_seconds > model_parameters.response_window_seconds
    or dispatch_effectiveness.target_response_seconds <= 0
    or dispatch_effectiveness.target_response_seconds
    > model_parameters.response_window_seconds
