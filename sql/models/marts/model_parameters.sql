-- model_parameters: one row, the parameters the marts were built with and the newest sample
-- they saw.
-- grain: exactly one row (no key). The runner passes W, S, R, T, V and lookback as vars
-- (from [models] and [sources.evenergy] lookback); it compares them with this row before the
-- next build and rebuilds from scratch when one changed.
select
    {{ param('response_window_seconds') }} as response_window_seconds,
    {{ param('staleness_seconds') }} as staleness_seconds,
    {{ param('rate_change_watts') }} as rate_change_watts,
    {{ param('current_tolerance_milliamps') }} as current_tolerance_milliamps,
    {{ param('nominal_voltage_volts') }} as nominal_voltage_volts,
    {{ param('lookback_seconds') }} as lookback_seconds,
    {{ data_through() }} as data_through,
