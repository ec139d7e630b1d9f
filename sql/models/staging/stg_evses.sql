-- stg_evses: one row per EVSE (a physical charger), as of its latest load.
-- key: evse_id
with

source as (

    select * from {{ source('evenergy', 'evses') }}

),

renamed as (

    select
        ---------- ids
        cast(id as varchar) as evse_id,
        cast(cpid as varchar) as cpid,
        cast(model_id as varchar) as evse_model_id,
        cast(make_id as varchar) as evse_make_id,
        cast(user_id as varchar) as user_id,

        ---------- text
        cast(model_name as varchar) as model_name,
        cast(make_name as varchar) as make_name,
        cast(lock_mode as varchar) as lock_mode,
        cast(lifecycle_state as varchar) as lifecycle_state,
        cast(url as varchar) as evse_url,
        cast(ct_clamp as varchar) as ct_clamp_url,
        cast(latest_status_log as varchar) as latest_status_log_url,

        ---------- numerics
        cast(location__latitude as double) as latitude_degrees,
        cast(location__longitude as double) as longitude_degrees,

        ---------- lineage
        cast(_dlt_load_id as varchar) as _dlt_load_id,
        cast(_dlt_id as varchar) as _dlt_id,

    from source

)

-- merge keys are unique in practice; keep the latest load's row anyway
select * from renamed
qualify row_number() over (
    partition by evse_id
    order by _dlt_load_id desc, _dlt_id desc
) = 1
