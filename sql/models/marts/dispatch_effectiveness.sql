-- dispatch_effectiveness: one row per dispatcher log, i.e. one attempt to send a smart-charging
-- command, classified: did the charger change state in the response window (outcome), obey
-- the command (compliance) and reach its target (target_outcome); sql/README.md defines each.
-- key: (charging_sub_session_id, internal_command_id, logged_at)
-- The attempt, its target and state before come from int_dispatch_attempts, its window from
-- int_dispatch_window_samples. Incremental: the attempts of int_dispatch_changes are
-- recomputed; a post-hook refreshes the EVSE's make and model on every row when they change.
-- depends_on: {{ ref('int_dispatch_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_attempts() }}",
    post_hook="{{ refresh_evse_dimensions() }}",
) }}
with

attempts as (

    select * from {{ ref('int_dispatch_attempts') }}
    {%- if is_incremental() %}
    semi join {{ ref('int_dispatch_changes') }} as changes
        on int_dispatch_attempts.charging_sub_session_id
        is not distinct from changes.charging_sub_session_id
        and int_dispatch_attempts.internal_command_id
        is not distinct from changes.internal_command_id
        and int_dispatch_attempts.logged_at is not distinct from changes.logged_at
    {%- endif %}

),

window_samples as (

    select * from {{ ref('int_dispatch_window_samples') }}
    {%- if is_incremental() %}
    -- the recomputed attempts' windows: a literal, so older row groups are skipped
    where logged_at >= {{ changed_attempts_from() }} or logged_at is null
    {%- endif %}

),

evses as (

    select * from {{ ref('stg_evses') }}

),

window_summaries as (

    select
        charging_sub_session_id,
        internal_command_id,
        logged_at,
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
    {%- if is_incremental() %}
    semi join attempts
        on window_samples.charging_sub_session_id = attempts.charging_sub_session_id
        and window_samples.internal_command_id = attempts.internal_command_id
        and window_samples.logged_at = attempts.logged_at
    {%- endif %}
    group by charging_sub_session_id, internal_command_id, logged_at

),

attempts_with_window as (

    select
        attempts.*,
        coalesce(window_summaries.count_window_samples, 0) as count_window_samples,
        coalesce(window_summaries.count_window_enabled_samples, 0)
            as count_window_enabled_samples,
        window_summaries.first_change,
        window_summaries.first_complying_at,
        window_summaries.first_matching_at,
        coalesce(window_summaries.count_departures, 0) as count_departures,
        coalesce(
            attempts.evse_id is not null
            and attempts.pre_sampled_at >= attempts.stale_before_at
            and window_summaries.count_window_samples > 0,
            false
        ) as has_telemetry,
        coalesce(
            attempts.pre_is_charging = attempts.target_is_charging
            and (
                not attempts.target_is_charging
                or abs(attempts.pre_charge_rate_watts - attempts.target_charge_rate_watts)
                <= {{ param('rate_change_watts') }}
            ),
            false
        ) as is_pre_matching_target,

    from attempts
    left join window_summaries
        on attempts.charging_sub_session_id = window_summaries.charging_sub_session_id
        and attempts.internal_command_id = window_summaries.internal_command_id
        and attempts.logged_at = window_summaries.logged_at

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
        classified.charging_sub_session_id,
        classified.internal_command_id,
        classified.logged_at,

        ---------- the attempt
        cast(timezone('UTC', classified.logged_at) as date) as date,
        classified.device_type,
        classified.reason_not_sent,
        classified.is_sent,
        classified.evse_id,
        evses.make_name,
        evses.model_name,

        ---------- state change: outcome
        classified.pre_sampled_at,
        epoch(classified.logged_at - classified.pre_sampled_at) as pre_age_seconds,
        classified.pre_is_charging,
        classified.pre_charge_rate_watts,
        classified.count_window_samples,
        case when classified.outcome = 'effective' then classified.first_change.sampled_at end
            as response_sampled_at,
        case when classified.outcome = 'effective' then classified.first_change.is_charging end
            as response_is_charging,
        case when classified.outcome = 'effective'
            then classified.first_change.charge_rate_watts end
            as response_charge_rate_watts,
        case when classified.outcome = 'effective'
            then epoch(classified.first_change.sampled_at - classified.logged_at) end
            as response_seconds,
        classified.outcome,

        ---------- the command's target: compliance and target_outcome
        classified.is_enabled_target,
        classified.max_load_target_milliamps,
        classified.target_is_charging,
        classified.target_voltage_volts,
        classified.target_charge_rate_watts,
        classified.compliance,
        case when classified.compliance = 'complied'
            then epoch(classified.first_complying_at - classified.logged_at) end
            as compliance_seconds,
        classified.target_outcome,
        case when classified.target_outcome = 'reached'
            then epoch(classified.first_matching_at - classified.logged_at) end
            as target_response_seconds,
        case
            when classified.compliance = 'not_complied' then 'charger'
            when classified.compliance = 'complied' and classified.target_outcome = 'not_reached'
                then 'vehicle'
        end as failure_side,

        ---------- still open: the window, or uploads into it, may still change the row
        classified.logged_at
        + {{ param_interval('response_window_seconds') }}
        + {{ param_interval('lookback_seconds') }}
        > {{ data_through() }} as is_provisional,

    from classified
    left join evses
        on classified.evse_id = evses.evse_id

)

select * from final
