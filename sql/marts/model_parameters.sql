-- model_parameters: one row, the parameters the marts were built with.
-- key: none (exactly one row). The runner sets them as DuckDB variables before the build;
-- a build without them fails here instead of silently classifying with nulls.
with

parameters as (

    select
        cast(getvariable('response_window_seconds') as double) as response_window_seconds,
        cast(getvariable('staleness_seconds') as double) as staleness_seconds,
        cast(getvariable('rate_change_watts') as double) as rate_change_watts,
        cast(getvariable('current_tolerance_milliamps') as double) as current_tolerance_milliamps,
        cast(getvariable('nominal_voltage_volts') as double) as nominal_voltage_volts,

),

final as (

    select
        coalesce(
            response_window_seconds,
            error('variable response_window_seconds is not set')
        ) as response_window_seconds,
        coalesce(
            staleness_seconds,
            error('variable staleness_seconds is not set')
        ) as staleness_seconds,
        coalesce(
            rate_change_watts,
            error('variable rate_change_watts is not set')
        ) as rate_change_watts,
        coalesce(
            current_tolerance_milliamps,
            error('variable current_tolerance_milliamps is not set')
        ) as current_tolerance_milliamps,
        coalesce(
            nominal_voltage_volts,
            error('variable nominal_voltage_volts is not set')
        ) as nominal_voltage_volts,

    from parameters

)

select * from final
