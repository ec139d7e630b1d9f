-- top_failing_evses: the 20 EVSEs with the most failed commands (either side), with their
-- make, model, rates and the side that fails most ('both' on a tie). Ties on the count are
-- broken by evse_id so the list is stable.
select
    evse_id,
    cpid,
    coalesce(make_name, '(unknown)') as make_name,
    coalesce(model_name, '(unknown)') as model_name,
    count_attempts,
    count_charger_failures,
    count_vehicle_failures,
    count_charger_failures + count_vehicle_failures as count_failures,
    case
        when count_charger_failures > count_vehicle_failures then 'charger'
        when count_vehicle_failures > count_charger_failures then 'vehicle'
        else 'both'
    end as failure_side,
    compliance_rate,
    target_success_rate,
    effectiveness_rate,
from analytics.evse_dispatch_effectiveness
where count_charger_failures + count_vehicle_failures > 0
order by count_failures desc, evse_id
limit 20
