-- dispatch_effectiveness: one row per dispatcher log, i.e. one attempt to send a smart-charging
-- command, with the charger's state just before it, what the charger did in the response window
-- after it, and whether it obeyed the command's target.
-- key: (charging_sub_session_id, internal_command_id, logged_at)
-- W, S, R, T and the nominal voltage come from analytics.model_parameters; the response window
-- is (logged_at, logged_at + W]. sql/README.md defines outcome, compliance and target_outcome.
with

dispatcher_logs as (

    select * from analytics.stg_dispatcher_logs

),

charging_sub_sessions as (

    select * from analytics.stg_charging_sub_sessions

),

status_logs as (

    select * from analytics.stg_status_logs

),

evse_command_logs as (

    select * from analytics.stg_evse_command_logs

),

model_parameters as (

    select * from analytics.model_parameters

),

parameters as (

    select
        to_seconds(response_window_seconds) as response_window,
        to_seconds(staleness_seconds) as staleness,
        rate_change_watts,
        current_tolerance_milliamps,
        nominal_voltage_volts,
        -- width of the time buckets that keep the response-window join linear
        greatest(cast(response_window_seconds * 1000000 as bigint), 1) as bucket_microseconds,

    from model_parameters

),

-- the telemetry the measures read, deduplicated once (it is read three times below)
samples as materialized (

    select
        evse_id,
        sampled_at,
        is_charging,
        charge_rate_watts,
        is_enabled,
        max_current_rating_milliamps,
        voltage_millivolts,

    from status_logs

),

-- one target per command: the earliest command log carrying its internal_command_id.
-- Joined on the id, never on time; command logs without an id are ignored.
command_targets as (

    select
        internal_command_id,
        is_enabled_target,
        max_load_target_milliamps,

    from evse_command_logs
    where internal_command_id is not null
    qualify row_number() over (
        partition by internal_command_id
        order by logged_at, evse_id
    ) = 1

),

attempts as materialized (

    select
        row_number() over () as attempt_id,
        dispatcher_logs.charging_sub_session_id,
        dispatcher_logs.internal_command_id,
        dispatcher_logs.logged_at,
        dispatcher_logs.device_type,
        dispatcher_logs.reason_not_sent,
        dispatcher_logs.reason_not_sent is null as is_sent,
        charging_sub_sessions.evse_id,
        command_targets.is_enabled_target,
        command_targets.max_load_target_milliamps,
        -- usable target: says enable or not and, when enabling, how much current
        coalesce(
            command_targets.is_enabled_target is not null
            and (
                not command_targets.is_enabled_target
                or command_targets.max_load_target_milliamps is not null
            ),
            false
        ) as has_target,

    from dispatcher_logs
    left join charging_sub_sessions
        on dispatcher_logs.charging_sub_session_id
        = charging_sub_sessions.charging_sub_session_id
    left join command_targets
        on dispatcher_logs.internal_command_id = command_targets.internal_command_id

),

-- the charger's state just before: its latest sample at or before logged_at
attempts_with_pre_state as (

    select
        attempts.*,
        samples.sampled_at as pre_sampled_at,
        samples.is_charging as pre_is_charging,
        samples.charge_rate_watts as pre_charge_rate_watts,

    from attempts
    asof left join samples
        on attempts.evse_id = samples.evse_id
        and attempts.logged_at >= samples.sampled_at

),

voltages as (

    select
        evse_id,
        sampled_at,
        voltage_millivolts,

    from samples
    where voltage_millivolts is not null

),

-- the latest voltage the charger reported at or before logged_at (however old; the state
-- before may not report one), to turn the target current into watts. Looked up from attempts
-- rather than chained after the first ASOF join: chaining them costs three times as much.
reported_voltages as (

    select
        attempts.attempt_id,
        voltages.voltage_millivolts as reported_voltage_millivolts,

    from attempts
    asof inner join voltages
        on attempts.evse_id = voltages.evse_id
        and attempts.logged_at >= voltages.sampled_at

),

attempts_with_voltage as (

    select
        attempts_with_pre_state.*,
        reported_voltages.reported_voltage_millivolts,

    from attempts_with_pre_state
    left join reported_voltages
        on attempts_with_pre_state.attempt_id = reported_voltages.attempt_id

),

attempts_with_target as (

    select
        attempts_with_voltage.* exclude (reported_voltage_millivolts),
        case
            when attempts_with_voltage.has_target
                then attempts_with_voltage.is_enabled_target
                and attempts_with_voltage.max_load_target_milliamps > 0
        end as target_is_charging,
        case
            when attempts_with_voltage.has_target
                then coalesce(
                    attempts_with_voltage.reported_voltage_millivolts / 1000.0,
                    parameters.nominal_voltage_volts
                )
        end as target_voltage_volts,
        attempts_with_voltage.logged_at - parameters.staleness as stale_before_at,
        attempts_with_voltage.logged_at + parameters.response_window as window_end_at,
        parameters.bucket_microseconds,

    from attempts_with_voltage
    cross join parameters

),

attempt_states as materialized (

    select
        attempts_with_target.*,
        case
            when attempts_with_target.target_is_charging
                then attempts_with_target.max_load_target_milliamps / 1000.0
                * attempts_with_target.target_voltage_volts
            when attempts_with_target.has_target then 0.0
        end as target_charge_rate_watts,

    from attempts_with_target

),

attempt_buckets as (

    select
        attempt_states.attempt_id,
        attempt_states.evse_id,
        attempt_states.logged_at,
        attempt_states.window_end_at,
        attempt_states.pre_is_charging,
        attempt_states.pre_charge_rate_watts,
        attempt_states.is_enabled_target,
        attempt_states.max_load_target_milliamps,
        attempt_states.target_is_charging,
        attempt_states.target_charge_rate_watts,
        unnest(range(
            epoch_us(attempt_states.logged_at) // attempt_states.bucket_microseconds,
            epoch_us(attempt_states.window_end_at) // attempt_states.bucket_microseconds + 1
        )) as bucket,

    from attempt_states
    where attempt_states.evse_id is not null

),

sample_buckets as (

    select
        samples.*,
        epoch_us(samples.sampled_at) // parameters.bucket_microseconds as bucket,

    from samples
    cross join parameters

),

-- every sample in the response window; joining on the bucket as well as the EVSE keeps this
-- linear (a range join on the EVSE alone compares every sample with every attempt)
window_samples as (

    select
        attempt_buckets.attempt_id,
        sample_buckets.sampled_at,
        sample_buckets.is_charging,
        sample_buckets.charge_rate_watts,
        sample_buckets.is_enabled,
        coalesce(sample_buckets.is_charging <> attempt_buckets.pre_is_charging, false)
        or coalesce(
            abs(sample_buckets.charge_rate_watts - attempt_buckets.pre_charge_rate_watts)
            >= parameters.rate_change_watts,
            false
        ) as is_state_change,
        coalesce(
            sample_buckets.is_enabled = attempt_buckets.is_enabled_target
            and (
                not attempt_buckets.is_enabled_target
                or abs(
                    sample_buckets.max_current_rating_milliamps
                    - attempt_buckets.max_load_target_milliamps
                ) <= parameters.current_tolerance_milliamps
            ),
            false
        ) as is_complying,
        -- null when the sample cannot tell
        sample_buckets.is_charging = attempt_buckets.target_is_charging
        and (
            not attempt_buckets.target_is_charging
            or abs(sample_buckets.charge_rate_watts - attempt_buckets.target_charge_rate_watts)
            <= parameters.rate_change_watts
        ) as is_matching_target,

    from attempt_buckets
    inner join sample_buckets
        on attempt_buckets.evse_id = sample_buckets.evse_id
        and attempt_buckets.bucket = sample_buckets.bucket
    cross join parameters
    where
        sample_buckets.sampled_at > attempt_buckets.logged_at
        and sample_buckets.sampled_at <= attempt_buckets.window_end_at

),

window_summaries as (

    select
        attempt_id,
        count(*) as count_window_samples,
        count(is_enabled) as count_window_enabled_samples,
        arg_min(
            {
                'sampled_at': sampled_at,
                'is_charging': is_charging,
                'charge_rate_watts': charge_rate_watts,
            },
            sampled_at
        ) filter (where is_state_change) as first_change,
        min(sampled_at) filter (where is_complying) as first_complying_at,
        min(sampled_at) filter (where is_matching_target) as first_matching_at,
        count(*) filter (where not is_matching_target) as count_departures,

    from window_samples
    group by attempt_id

),

attempts_with_window as (

    select
        attempt_states.*,
        coalesce(window_summaries.count_window_samples, 0) as count_window_samples,
        coalesce(window_summaries.count_window_enabled_samples, 0)
            as count_window_enabled_samples,
        window_summaries.first_change,
        window_summaries.first_complying_at,
        window_summaries.first_matching_at,
        coalesce(window_summaries.count_departures, 0) as count_departures,
        coalesce(
            attempt_states.evse_id is not null
            and attempt_states.pre_sampled_at >= attempt_states.stale_before_at
            and window_summaries.count_window_samples > 0,
            false
        ) as has_telemetry,
        coalesce(
            attempt_states.pre_is_charging = attempt_states.target_is_charging
            and (
                not attempt_states.target_is_charging
                or abs(
                    attempt_states.pre_charge_rate_watts
                    - attempt_states.target_charge_rate_watts
                ) <= parameters.rate_change_watts
            ),
            false
        ) as is_pre_matching_target,

    from attempt_states
    left join window_summaries
        on attempt_states.attempt_id = window_summaries.attempt_id
    cross join parameters

),

classified as (

    select
        *,
        case
            when not is_sent then 'not_sent'
            when not has_telemetry then 'no_telemetry'
            when first_change is not null then 'effective'
            else 'no_response'
        end as outcome,
        case
            when not is_sent then 'not_sent'
            when not has_target then 'no_target'
            when count_window_enabled_samples = 0 then 'unknown'
            when first_complying_at is not null then 'complied'
            else 'not_complied'
        end as compliance,
        case
            when not is_sent then 'not_sent'
            when not has_target then 'no_target'
            when not has_telemetry then 'no_telemetry'
            when is_pre_matching_target and count_departures = 0 then 'held'
            when first_matching_at is not null then 'reached'
            else 'not_reached'
        end as target_outcome,

    from attempts_with_window

),

final as (

    select
        ---------- key
        charging_sub_session_id,
        internal_command_id,
        logged_at,

        ---------- the attempt
        device_type,
        reason_not_sent,
        is_sent,
        evse_id,

        ---------- state change: outcome
        pre_sampled_at,
        epoch(logged_at - pre_sampled_at) as pre_age_seconds,
        pre_is_charging,
        pre_charge_rate_watts,
        count_window_samples,
        case when outcome = 'effective' then first_change.sampled_at end
            as response_sampled_at,
        case when outcome = 'effective' then first_change.is_charging end
            as response_is_charging,
        case when outcome = 'effective' then first_change.charge_rate_watts end
            as response_charge_rate_watts,
        case when outcome = 'effective' then epoch(first_change.sampled_at - logged_at) end
            as response_seconds,
        outcome,

        ---------- the command's target: compliance and target_outcome
        is_enabled_target,
        max_load_target_milliamps,
        target_is_charging,
        target_voltage_volts,
        target_charge_rate_watts,
        compliance,
        case when compliance = 'complied' then epoch(first_complying_at - logged_at) end
            as compliance_seconds,
        target_outcome,
        case when target_outcome = 'reached' then epoch(first_matching_at - logged_at) end
            as target_response_seconds,
        case
            when compliance = 'not_complied' then 'charger'
            when compliance = 'complied' and target_outcome = 'not_reached' then 'vehicle'
        end as failure_side,

    from classified

)

select * from final
