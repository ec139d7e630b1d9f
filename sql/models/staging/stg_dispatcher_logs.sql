-- stg_dispatcher_logs: one row per attempt to send a dispatch command to an EVSE or a vehicle.
-- key: (charging_sub_session_id, internal_command_id, logged_at)
with

source as (

    select * from {{ source('evenergy', 'dispatcher_logs') }}

),

renamed as (

    select
        ---------- ids
        cast(charging_sub_session_id as varchar) as charging_sub_session_id,
        cast(internal_command_id as varchar) as internal_command_id,

        ---------- text
        cast(device_type as varchar) as device_type,
        cast(reason_not_sent as varchar) as reason_not_sent,

        ---------- timestamps (UTC)
        cast(logged_at as timestamptz) as logged_at,
        cast(schedule_valid_period_start as timestamptz) as schedule_valid_from_at,
        cast(schedule_created_at as timestamptz) as schedule_created_at,

        ---------- lineage
        cast(_dlt_load_id as varchar) as _dlt_load_id,
        cast(_dlt_id as varchar) as _dlt_id,

    from source

)

select * from renamed
qualify row_number() over (
    partition by charging_sub_session_id, internal_command_id, logged_at
    order by _dlt_load_id desc, _dlt_id desc
) = 1
