-- daily_dispatch_effectiveness: one row per UTC day of logged_at and device_type, the
-- dispatch measures of dispatch_effectiveness summed over that day's attempts.
-- key: (date, device_type)
with

dispatch_effectiveness as (

    select * from analytics.dispatch_effectiveness

),

attempts as (

    select
        cast(timezone('UTC', logged_at) as date) as date,
        device_type,
        is_sent,
        outcome,
        response_seconds,
        compliance,
        compliance_seconds,
        target_outcome,
        target_response_seconds,
        failure_side,

    from dispatch_effectiveness

),

daily as (

    select
        date,
        device_type,

        ---------- attempts
        count(*) as count_attempts,
        count(*) filter (where is_sent) as count_sent,

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

    from attempts
    group by date, device_type

),

final as (

    select
        *,
        count_effective / nullif(count_effective + count_no_response, 0)
            as effectiveness_rate,
        count_complied / nullif(count_complied + count_not_complied, 0)
            as compliance_rate,
        (count_target_reached + count_target_held)
        / nullif(count_target_reached + count_target_held + count_target_not_reached, 0)
            as target_success_rate,

    from daily

)

select * from final
