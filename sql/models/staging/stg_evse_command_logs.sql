-- stg_evse_command_logs: one row per command ev.energy sent to an EVSE (the state it asked for).
-- key: (evse_id, logged_at)
with

source as (

    select * from {{ source('evenergy', 'evse_command_logs') }}

),

renamed as (

    select
        ---------- ids
        cast(evse_id as varchar) as evse_id,
        cast(internal_command_id as varchar) as internal_command_id,
        cast(url as varchar) as command_log_url,

        ---------- targets
        cast(is_enabled_target as boolean) as is_enabled_target,
        cast(max_load_target_milliamps as bigint) as max_load_target_milliamps,
        cast(always_enabled as boolean) as is_always_enabled,

        ---------- text
        cast(reason as varchar) as command_reason,

        ---------- timestamps (UTC)
        cast(logged_at as timestamptz) as logged_at,

        ---------- lineage
        cast(_dlt_load_id as varchar) as _dlt_load_id,
        cast(_dlt_id as varchar) as _dlt_id,

    from source

)

select * from renamed
qualify row_number() over (
    partition by evse_id, logged_at
    order by _dlt_load_id desc, _dlt_id desc
) = 1
