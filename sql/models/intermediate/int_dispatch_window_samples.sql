-- int_dispatch_window_samples: one row per dispatch attempt and status log in its response
-- window (logged_at, logged_at + W], with whether the sample is a state change against the
-- state before, complies with the command, and matches its target charge rate.
-- key: (charging_sub_session_id, internal_command_id, logged_at, sampled_at)
-- Incremental: the windows of the attempts of int_dispatch_changes are recomputed.
-- depends_on: {{ ref('int_dispatch_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_attempts() }}",
) }}
{%- if is_incremental() %}
    {%- set cutoff = scalar("select min(logged_at) from " ~ ref('int_dispatch_changes')) %}
{%- endif %}
with

attempts as (

    select * from {{ ref('int_dispatch_attempts') }}
    where evse_id is not null
    {%- if is_incremental() %}
        and logged_at >= {{ timestamp_literal(cutoff) if cutoff is not none
            else "cast('infinity' as timestamptz)" }}
        and (charging_sub_session_id, internal_command_id, logged_at) in (
            select (charging_sub_session_id, internal_command_id, logged_at)
            from {{ ref('int_dispatch_changes') }}
        )
    {%- endif %}

),

parameters as (

    select
        -- width of the time buckets that keep the response-window join linear
        greatest(
            cast({{ param('response_window_seconds') }} * 1000000 as bigint), 1
        ) as bucket_microseconds,

),

samples as (

    select
        evse_id,
        sampled_at,
        is_charging,
        charge_rate_watts,
        is_enabled,
        max_current_rating_milliamps,

    from {{ ref('stg_status_logs') }}
    {%- if is_incremental() %}
    where sampled_at > {{ timestamp_literal(cutoff) if cutoff is not none
        else "cast('infinity' as timestamptz)" }}
    {%- endif %}

),

attempt_buckets as (

    select
        attempts.*,
        unnest(range(
            epoch_us(attempts.logged_at) // parameters.bucket_microseconds,
            epoch_us(attempts.window_end_at) // parameters.bucket_microseconds + 1
        )) as bucket,

    from attempts
    cross join parameters

),

sample_buckets as (

    select
        samples.*,
        epoch_us(samples.sampled_at) // parameters.bucket_microseconds as bucket,

    from samples
    cross join parameters

),

-- joining on the bucket as well as the EVSE keeps this linear (a range join on the EVSE
-- alone compares every sample with every attempt)
final as (

    select
        attempt_buckets.charging_sub_session_id,
        attempt_buckets.internal_command_id,
        attempt_buckets.logged_at,
        sample_buckets.sampled_at,
        sample_buckets.is_charging,
        sample_buckets.charge_rate_watts,
        sample_buckets.is_enabled,
        coalesce(sample_buckets.is_charging <> attempt_buckets.pre_is_charging, false)
        or coalesce(
            abs(sample_buckets.charge_rate_watts - attempt_buckets.pre_charge_rate_watts)
            >= {{ param('rate_change_watts') }},
            false
        ) as is_state_change,
        coalesce(
            sample_buckets.is_enabled = attempt_buckets.is_enabled_target
            and (
                not attempt_buckets.is_enabled_target
                or abs(
                    sample_buckets.max_current_rating_milliamps
                    - attempt_buckets.max_load_target_milliamps
                ) <= {{ param('current_tolerance_milliamps') }}
            ),
            false
        ) as is_complying,
        -- null when the sample cannot tell
        sample_buckets.is_charging = attempt_buckets.target_is_charging
        and (
            not attempt_buckets.target_is_charging
            or abs(sample_buckets.charge_rate_watts - attempt_buckets.target_charge_rate_watts)
            <= {{ param('rate_change_watts') }}
        ) as is_matching_target,

    from attempt_buckets
    inner join sample_buckets
        on attempt_buckets.evse_id = sample_buckets.evse_id
        and attempt_buckets.bucket = sample_buckets.bucket
    where
        sample_buckets.sampled_at > attempt_buckets.logged_at
        and sample_buckets.sampled_at <= attempt_buckets.window_end_at

)

select * from final
