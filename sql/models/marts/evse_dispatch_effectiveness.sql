-- evse_dispatch_effectiveness: one row per EVSE that was the target of at least one dispatch
-- attempt, the dispatch measures of dispatch_effectiveness over all its attempts, so the
-- chargers (and makes and models) that ignore commands stand out.
-- key: evse_id
with

dispatch_effectiveness as (

    select * from {{ ref('dispatch_effectiveness') }}

),

evses as (

    select * from {{ ref('stg_evses') }}

),

per_evse as (

    select
        evse_id,

        ---------- attempts
        count(*) as count_attempts,
        count(*) filter (where is_sent) as count_sent,
        min(logged_at) as first_attempt_at,
        max(logged_at) as last_attempt_at,

        ---------- state change (outcome)
        count(*) filter (where outcome = 'not_sent') as count_not_sent,
        count(*) filter (where outcome = 'no_telemetry') as count_no_telemetry,
        count(*) filter (where outcome = 'effective') as count_effective,
        count(*) filter (where outcome = 'no_response') as count_no_response,
        median(response_seconds) as median_response_seconds,
        quantile_cont(response_seconds, 0.9) as p90_response_seconds,

        ---------- compliance
        count(*) filter (where compliance = 'no_target') as count_no_target,
        count(*) filter (where compliance = 'unknown') as count_compliance_unknown,
        count(*) filter (where compliance = 'complied') as count_complied,
        count(*) filter (where compliance = 'not_complied') as count_not_complied,
        median(compliance_seconds) as median_compliance_seconds,

        ---------- target_outcome
        count(*) filter (where target_outcome = 'no_telemetry') as count_target_no_telemetry,
        count(*) filter (where target_outcome = 'held') as count_target_held,
        count(*) filter (where target_outcome = 'reached') as count_target_reached,
        count(*) filter (where target_outcome = 'not_reached') as count_target_not_reached,
        median(target_response_seconds) as median_target_response_seconds,

        ---------- failure side
        count(*) filter (where failure_side = 'charger') as count_charger_failures,
        count(*) filter (where failure_side = 'vehicle') as count_vehicle_failures,

    from dispatch_effectiveness
    where evse_id is not null
    group by evse_id

),

final as (

    select
        per_evse.evse_id,
        evses.cpid,
        evses.make_name,
        evses.model_name,
        per_evse.* exclude (evse_id),
        per_evse.count_effective
        / nullif(per_evse.count_effective + per_evse.count_no_response, 0)
            as effectiveness_rate,
        per_evse.count_complied
        / nullif(per_evse.count_complied + per_evse.count_not_complied, 0)
            as compliance_rate,
        (per_evse.count_target_reached + per_evse.count_target_held)
        / nullif(
            per_evse.count_target_reached
            + per_evse.count_target_held
            + per_evse.count_target_not_reached,
            0
        ) as target_success_rate,

    from per_evse
    left join evses
        on per_evse.evse_id = evses.evse_id

)

select * from final
