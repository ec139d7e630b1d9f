-- stg_charging_sub_sessions: one row per charging sub-session (one mode within one plug-in).
-- key: charging_sub_session_id
with

source as (

    select * from {{ source('evenergy', 'charging_sub_sessions') }}

),

renamed as (

    select
        ---------- ids
        cast(id as varchar) as charging_sub_session_id,
        cast(evse_id as varchar) as evse_id,
        cast(vehicle_id as varchar) as vehicle_id,
        cast(url as varchar) as charging_sub_session_url,

        ---------- text
        cast(mode as varchar) as charging_mode,
        cast(currency as varchar) as currency,
        cast(co2_intensity_classification as varchar) as co2_intensity_classification,
        cast(solar_mode_type as varchar) as solar_mode_type,
        cast(location__name as varchar) as location_name,
        cast(location__postal_code as varchar) as location_postal_code,
        cast(location__address_1 as varchar) as location_address_1,
        cast(location__timezone as varchar) as location_timezone,

        ---------- numerics
        cast(energy_delivered_watt_hours as bigint) as energy_delivered_watt_hours,
        cast(grid_energy_delivered_watt_hours as bigint) as grid_energy_delivered_watt_hours,
        cast(solar_energy_delivered_watt_hours as bigint) as solar_energy_delivered_watt_hours,
        cast(cost as bigint) as cost_minor_units,
        cast(cost_per_kilowatt_hour as bigint) as cost_per_kilowatt_hour_minor_units,
        cast(savings_cost as bigint) as savings_cost_minor_units,
        cast(incentive_earned as bigint) as incentive_earned_minor_units,
        cast(total_co2_grams as bigint) as total_co2_grams,
        cast(savings_co2_grams as bigint) as savings_co2_grams,
        cast(co2_intensity_grams_per_kilowatt_hour as bigint) as co2_intensity_grams_per_kwh,
        cast(percentage_added as double) as battery_percent_added,
        cast(total_points as bigint) as count_points,
        cast(total_points_missed as bigint) as count_points_missed,
        cast(duration_minutes as bigint) as duration_minutes,
        cast(location__coordinates__latitude as double) as location_latitude_degrees,
        cast(location__coordinates__longitude as double) as location_longitude_degrees,

        ---------- timestamps (UTC; ended_at is null while the sub-session is ongoing)
        cast(start as timestamptz) as started_at,
        cast("end" as timestamptz) as ended_at,

        ---------- lineage
        cast(_dlt_load_id as varchar) as _dlt_load_id,
        cast(_dlt_id as varchar) as _dlt_id,

    from source

)

-- an ongoing sub-session is reloaded when it ends: keep the latest load
select * from renamed
qualify row_number() over (
    partition by charging_sub_session_id
    order by _dlt_load_id desc, _dlt_id desc
) = 1
