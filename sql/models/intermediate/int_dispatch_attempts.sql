-- int_dispatch_attempts: one row per dispatcher log (one attempt to send a smart-charging
-- command) with its EVSE, the command's target, the charger's state just before it and the
-- bounds of its response window; what dispatch_effectiveness classifies.
-- key: (charging_sub_session_id, internal_command_id, logged_at)
-- Incremental: only the attempts of int_dispatch_changes are recomputed (and replace their
-- previous rows by key: the model reads those, so they are deleted only afterwards), reading the status
-- logs from `cutoff` on (a literal, so the scan skips older row groups). The state before and
-- the voltage are "the latest at or before logged_at, however old": when none is found since
-- the cutoff, the previous build's value still holds (every status log loaded since then was
-- sampled at or after the cutoff), and an attempt without one looks further back.
-- depends_on: {{ ref('int_dispatch_changes') }}, {{ source('evenergy', 'status_logs') }},
--   {{ source('evenergy', 'evse_command_logs') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['charging_sub_session_id', 'internal_command_id', 'logged_at'],
) }}
{%- if is_incremental() %}
    {%- set cutoff = scalar(
        "select least("
        ~ "(select min(logged_at) - " ~ param_interval('response_window_seconds')
        ~ " from " ~ ref('int_dispatch_changes') ~ "), "
        ~ "(select min(sampled_at) from " ~ source('evenergy', 'status_logs')
        ~ " where _dlt_load_id > " ~ (since_load_id() or "''")
        ~ " and evse_id in (select evse_id from " ~ ref('int_dispatch_changes') ~ ")))"
    ) %}
    {%- set since_cutoff = "cast('infinity' as timestamptz)" if cutoff is none
        else timestamp_literal(cutoff) %}
    {#- How far back the attempts without a state since the cutoff look: per EVSE, the newest
        state before of its previous rows logged before the cutoff (a sample before the
        cutoff, so the latest one is no older; and no older than the newest of those rows,
        whose voltage holds when none was reported since). Every EVSE without such a row
        looks through its whole history. Unbounded, this lookup read the whole history every
        night: 4.9 of 28 s at 60 days. -#}
    {%- set deep_from = none if cutoff is none else scalar(
        "select min(coalesce(newest_pre_sampled_at, cast('-infinity' as timestamptz))) from ("
        ~ "select changes.evse_id, max(previous.pre_sampled_at) as newest_pre_sampled_at"
        ~ " from (select distinct evse_id from " ~ ref('int_dispatch_changes')
        ~ " where evse_id is not null) as changes"
        ~ " left join " ~ this ~ " as previous on previous.evse_id = changes.evse_id"
        ~ " and previous.logged_at < " ~ since_cutoff
        ~ " group by all)"
    ) %}
    {%- set deep_cutoff = "cast('-infinity' as timestamptz)" if deep_from is none
        else timestamp_literal(deep_from) %}
    {#- The command logs the recomputed attempts' targets can come from: those carrying their
        ids (a narrow scan of two raw columns, then a literal the staging view's scan skips
        older row groups by). -#}
    {%- set targets_from = scalar(
        "select min(logged_at) from " ~ source('evenergy', 'evse_command_logs')
        ~ " where internal_command_id in (select internal_command_id from "
        ~ ref('int_dispatch_changes') ~ ")"
    ) %}
    {%- set targets_cutoff = "cast('infinity' as timestamptz)" if targets_from is none
        else timestamp_literal(targets_from) %}
{%- endif %}
with

dispatcher_logs as (

    select * from {{ ref('stg_dispatcher_logs') }}
    {%- if is_incremental() %}
    -- every recomputed attempt is logged after the cutoff
    where logged_at >= {{ since_cutoff }}
    {%- endif %}

),

charging_sub_sessions as (

    select * from {{ ref('stg_charging_sub_sessions') }}

),

evse_command_logs as (

    select * from {{ ref('stg_evse_command_logs') }}

),

-- the telemetry the state before reads
samples as materialized (

    select
        evse_id,
        sampled_at,
        is_charging,
        charge_rate_watts,
        voltage_millivolts,

    from {{ ref('stg_status_logs') }}
    {%- if is_incremental() %}
    where sampled_at >= {{ since_cutoff }}
    {%- endif %}

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
    {%- if is_incremental() %}
        and logged_at >= {{ targets_cutoff }}
    {%- endif %}
    qualify row_number() over (
        partition by internal_command_id
        order by logged_at, evse_id
    ) = 1

),

attempts as materialized (

    select
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
    {%- if is_incremental() %}
    semi join {{ ref('int_dispatch_changes') }} as changes
        on dispatcher_logs.charging_sub_session_id is not distinct from changes.charging_sub_session_id
        and dispatcher_logs.internal_command_id is not distinct from changes.internal_command_id
        and dispatcher_logs.logged_at is not distinct from changes.logged_at
    {%- endif %}
    left join charging_sub_sessions
        on dispatcher_logs.charging_sub_session_id
        = charging_sub_sessions.charging_sub_session_id
    left join command_targets
        on dispatcher_logs.internal_command_id = command_targets.internal_command_id

),

-- the charger's state just before: its latest sample at or before logged_at
pre_states as (

    select
        attempts.charging_sub_session_id,
        attempts.internal_command_id,
        attempts.logged_at,
        samples.sampled_at as pre_sampled_at,
        samples.is_charging as pre_is_charging,
        samples.charge_rate_watts as pre_charge_rate_watts,

    from attempts
    asof inner join samples
        on attempts.evse_id = samples.evse_id
        and attempts.logged_at >= samples.sampled_at

),

-- the latest voltage the charger reported at or before logged_at (however old; the state
-- before may not report one), to turn the target current into watts. Looked up from attempts
-- rather than chained after the first ASOF join: chaining them costs three times as much.
reported_voltages as (

    select
        attempts.charging_sub_session_id,
        attempts.internal_command_id,
        attempts.logged_at,
        samples.voltage_millivolts as reported_voltage_millivolts,

    from attempts
    asof inner join (select * from samples where voltage_millivolts is not null) as samples
        on attempts.evse_id = samples.evse_id
        and attempts.logged_at >= samples.sampled_at

),

looked_up as (

    select
        attempts.*,
        pre_states.pre_sampled_at,
        pre_states.pre_is_charging,
        pre_states.pre_charge_rate_watts,
        reported_voltages.reported_voltage_millivolts,
        pre_states.logged_at is not null as has_pre_state,
        reported_voltages.logged_at is not null as has_voltage,

    from attempts
    left join pre_states
        on attempts.charging_sub_session_id = pre_states.charging_sub_session_id
        and attempts.internal_command_id = pre_states.internal_command_id
        and attempts.logged_at = pre_states.logged_at
    left join reported_voltages
        on attempts.charging_sub_session_id = reported_voltages.charging_sub_session_id
        and attempts.internal_command_id = reported_voltages.internal_command_id
        and attempts.logged_at = reported_voltages.logged_at

),

{%- if is_incremental() %}

-- the previous build's lookups, valid while the attempt's EVSE is the same
previous as (

    select
        charging_sub_session_id,
        internal_command_id,
        logged_at,
        evse_id,
        pre_sampled_at,
        pre_is_charging,
        pre_charge_rate_watts,
        reported_voltage_millivolts,

    from {{ this }}
    -- the recomputed attempts are all logged after the cutoff
    where logged_at >= {{ since_cutoff }}

),

with_previous as (

    select
        looked_up.* exclude (
            pre_sampled_at, pre_is_charging, pre_charge_rate_watts, reported_voltage_millivolts
        ),
        previous.charging_sub_session_id is not null as has_previous,
        case when looked_up.has_pre_state then looked_up.pre_sampled_at
            else previous.pre_sampled_at end as pre_sampled_at,
        case when looked_up.has_pre_state then looked_up.pre_is_charging
            else previous.pre_is_charging end as pre_is_charging,
        case when looked_up.has_pre_state then looked_up.pre_charge_rate_watts
            else previous.pre_charge_rate_watts end as pre_charge_rate_watts,
        case when looked_up.has_voltage then looked_up.reported_voltage_millivolts
            else previous.reported_voltage_millivolts end as reported_voltage_millivolts,

    from looked_up
    left join previous
        on looked_up.charging_sub_session_id = previous.charging_sub_session_id
        and looked_up.internal_command_id = previous.internal_command_id
        and looked_up.logged_at = previous.logged_at
        and looked_up.evse_id = previous.evse_id

),

-- attempts with neither a state (or voltage) since the cutoff nor a previous row: look before
deep_attempts as materialized (

    select *
    from with_previous
    where evse_id is not null and not has_previous and not (has_pre_state and has_voltage)

),

deep_samples as materialized (

    select
        evse_id,
        sampled_at,
        is_charging,
        charge_rate_watts,
        voltage_millivolts,

    from {{ ref('stg_status_logs') }}
    where
        sampled_at < {{ since_cutoff }}
        and sampled_at >= {{ deep_cutoff }}
        and evse_id in (select evse_id from deep_attempts)

),

-- the voltage of each EVSE's newest row logged before the cutoff: it holds when no voltage
-- was reported between that row and the cutoff
previous_voltages as (

    select
        evse_id,
        arg_max(reported_voltage_millivolts, logged_at) as reported_voltage_millivolts,

    from {{ this }}
    where
        logged_at < {{ since_cutoff }}
        and evse_id in (select evse_id from deep_attempts where not has_voltage)
    group by evse_id

),

deep_pre_states as (

    select
        deep_attempts.charging_sub_session_id,
        deep_attempts.internal_command_id,
        deep_attempts.logged_at,
        deep_samples.sampled_at as pre_sampled_at,
        deep_samples.is_charging as pre_is_charging,
        deep_samples.charge_rate_watts as pre_charge_rate_watts,

    from deep_attempts
    asof inner join deep_samples
        on deep_attempts.evse_id = deep_samples.evse_id
        and deep_attempts.logged_at >= deep_samples.sampled_at
    where not deep_attempts.has_pre_state

),

deep_voltages as (

    select
        deep_attempts.charging_sub_session_id,
        deep_attempts.internal_command_id,
        deep_attempts.logged_at,
        deep_samples.voltage_millivolts as reported_voltage_millivolts,

    from deep_attempts
    asof inner join (
        select * from deep_samples where voltage_millivolts is not null
    ) as deep_samples
        on deep_attempts.evse_id = deep_samples.evse_id
        and deep_attempts.logged_at >= deep_samples.sampled_at
    where not deep_attempts.has_voltage

),

states as (

    select
        with_previous.* exclude (
            pre_sampled_at, pre_is_charging, pre_charge_rate_watts, reported_voltage_millivolts
        ),
        coalesce(with_previous.pre_sampled_at, deep_pre_states.pre_sampled_at)
            as pre_sampled_at,
        case when deep_pre_states.logged_at is not null then deep_pre_states.pre_is_charging
            else with_previous.pre_is_charging end as pre_is_charging,
        case when deep_pre_states.logged_at is not null
            then deep_pre_states.pre_charge_rate_watts
            else with_previous.pre_charge_rate_watts end as pre_charge_rate_watts,
        case
            when deep_voltages.logged_at is not null
                then deep_voltages.reported_voltage_millivolts
            when with_previous.evse_id is not null and not with_previous.has_previous
                and not with_previous.has_voltage
                then previous_voltages.reported_voltage_millivolts
            else with_previous.reported_voltage_millivolts
        end as reported_voltage_millivolts,

    from with_previous
    left join deep_pre_states
        on with_previous.charging_sub_session_id = deep_pre_states.charging_sub_session_id
        and with_previous.internal_command_id = deep_pre_states.internal_command_id
        and with_previous.logged_at = deep_pre_states.logged_at
    left join deep_voltages
        on with_previous.charging_sub_session_id = deep_voltages.charging_sub_session_id
        and with_previous.internal_command_id = deep_voltages.internal_command_id
        and with_previous.logged_at = deep_voltages.logged_at
    left join previous_voltages
        on with_previous.evse_id = previous_voltages.evse_id

),

{%- else %}

states as (

    select * from looked_up

),

{%- endif %}

with_target as (

    select
        states.charging_sub_session_id,
        states.internal_command_id,
        states.logged_at,
        states.device_type,
        states.reason_not_sent,
        states.is_sent,
        states.evse_id,
        states.pre_sampled_at,
        states.pre_is_charging,
        states.pre_charge_rate_watts,
        states.reported_voltage_millivolts,
        states.is_enabled_target,
        states.max_load_target_milliamps,
        states.has_target,
        case
            when states.has_target
                then states.is_enabled_target and states.max_load_target_milliamps > 0
        end as target_is_charging,
        case
            when states.has_target
                then coalesce(
                    states.reported_voltage_millivolts / 1000.0,
                    {{ param('nominal_voltage_volts') }}
                )
        end as target_voltage_volts,
        states.logged_at - {{ param_interval('staleness_seconds') }} as stale_before_at,
        states.logged_at + {{ param_interval('response_window_seconds') }} as window_end_at,

    from states

),

final as (

    select
        *,
        case
            when target_is_charging
                then max_load_target_milliamps / 1000.0 * target_voltage_volts
            when has_target then 0.0
        end as target_charge_rate_watts,

    from with_target

)

select * from final
