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

        min(logged_at) as first_attempt_at,
        max(logged_at) as last_attempt_at,
{{ dispatch_counts() }}

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
