-- failures_by_make_model: failed commands per charger make and model, split by the side that
-- failed (charger: did not comply; vehicle: complied but the target was not reached).
-- One row per (make_name, model_name, failure_side) with at least one failure.
with

per_model as (

    select
        coalesce(make_name, '(unknown)') as make_name,
        coalesce(model_name, '(unknown)') as model_name,
        sum(count_charger_failures) as charger,
        sum(count_vehicle_failures) as vehicle,
    from analytics.evse_dispatch_effectiveness
    group by all

)

select
    make_name,
    model_name,
    make_name || ' ' || model_name as make_model,
    failure_side,
    count_failures,
from (unpivot per_model on charger, vehicle into name failure_side value count_failures)
where count_failures > 0
order by make_name, model_name, failure_side
