-- evse_reporting_health: one row per EVSE and UTC day, every day from the EVSE's first status
-- log to the last loaded day (the day of data_through), silent days included with
-- count_samples = 0: how many samples, the longest silence, how late the samples arrived.
-- key: (evse_id, date)
-- Incremental: each EVSE's days from its int_reporting_changes.recompute_from (or the first
-- provisional day of the previous build) are recomputed; the gap since the previous
-- reporting day reads that day from the previous build. The recomputed days replace their
-- previous rows by key (every day of the range is regenerated: the grid is complete).
-- depends_on: {{ ref('int_reporting_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['evse_id', 'date'],
    post_hook="{{ refresh_evse_dimensions() }}",
) }}
{%- if is_incremental() %}
    {%- set first = scalar(
        "select least((select min(recompute_from) from " ~ ref('int_reporting_changes')
        ~ "), " ~ provisional_from_date() ~ ")"
    ) %}
    {%- set first_literal = "cast('infinity' as timestamptz)" if first is none
        else "cast('" ~ first ~ " 00:00:00+00' as timestamptz)" %}
{%- endif %}
with

status_logs as (

    select * from {{ ref('stg_status_logs') }}
    {%- if is_incremental() %}
    where sampled_at >= {{ first_literal }}
    {%- endif %}

),

evses as (

    select * from {{ ref('stg_evses') }}

),

{%- if is_incremental() %}

previous_days as (

    select
        evse_id,
        min(date) as first_date,
        max(last_sampled_at) as last_sampled_at,

    from {{ this }}
    group by evse_id

),

recompute as (

    select
        coalesce(previous_days.evse_id, changes.evse_id) as evse_id,
        coalesce(changes.recompute_from, {{ provisional_from_date() }}) as recompute_from,

    from previous_days
    full join {{ ref('int_reporting_changes') }} as changes
        on previous_days.evse_id = changes.evse_id

),

{%- endif %}

samples as (

    -- epoch arithmetic rather than timezone() and interval maths: the same UTC day and
    -- seconds, ten times cheaper over every sample
    select
        status_logs.evse_id,
        date '1970-01-01' + cast(epoch_us(status_logs.sampled_at) // 86400000000 as integer)
            as date,
        status_logs.sampled_at,
        status_logs.is_charging,
        (epoch_us(status_logs.logged_at) - epoch_us(status_logs.sampled_at)) / 1000000
            as late_arrival_seconds,

    from status_logs

),

daily as (

    select
        samples.evse_id,
        samples.date,
        count(*) as count_samples,
        min(samples.sampled_at) as first_sampled_at,
        max(samples.sampled_at) as last_sampled_at,
        max(samples.late_arrival_seconds) as max_late_arrival_seconds,
        count(*) filter (where samples.is_charging is null) / count(*)
            as is_charging_null_share,
        -- per-day lists instead of median() and a window over every sample: both are far
        -- slower on 20 M rows in DuckDB (measured in pipelines/bench/models.py)
        list(samples.late_arrival_seconds) as late_arrival_seconds,
        -- the day's sample times in order: neighbours give the gaps
        list_sort(list(epoch_us(samples.sampled_at))) as sampled_at_microseconds,

    from samples
    {%- if is_incremental() %}
    inner join recompute
        on samples.evse_id = recompute.evse_id
        and samples.date >= recompute.recompute_from
    {%- endif %}
    group by samples.evse_id, samples.date

),

daily_gaps as (

    select
        daily.*,
        list_max(list_transform(
            range(2, len(daily.sampled_at_microseconds) + 1),
            lambda i: daily.sampled_at_microseconds[i] - daily.sampled_at_microseconds[i - 1]
        )) / 1000000 as max_gap_within_day_seconds,
        -- the silence since the previous reporting day's last sample counts on this day
        epoch(
            daily.first_sampled_at
            - coalesce(
                lag(daily.last_sampled_at) over (partition by daily.evse_id order by daily.date)
                {%- if is_incremental() %},
                (
                    select max(previous.last_sampled_at)
                    from {{ this }} as previous
                    where previous.evse_id = daily.evse_id
                        and previous.date < daily.date
                )
                {%- endif %}
            )
        ) as gap_since_previous_day_seconds,

    from daily

),

first_days as (

    select
        evse_id,
        min(date) as first_date,

    from daily
    group by evse_id

),

-- every EVSE's days, from its first status log to the last loaded day
grid as (

    select
        {%- if is_incremental() %}
        recompute.evse_id,
        cast(unnest(range(
            greatest(
                least(
                    coalesce(previous_days.first_date, first_days.first_date),
                    coalesce(first_days.first_date, previous_days.first_date)
                ),
                recompute.recompute_from
            ),
            cast(timezone('UTC', {{ data_through() }}) as date) + 1,
            interval 1 day
        )) as date) as date,
        {%- else %}
        first_days.evse_id,
        cast(unnest(range(
            first_days.first_date,
            cast(timezone('UTC', {{ data_through() }}) as date) + 1,
            interval 1 day
        )) as date) as date,
        {%- endif %}

    {%- if is_incremental() %}
    from recompute
    left join previous_days
        on recompute.evse_id = previous_days.evse_id
    left join first_days
        on recompute.evse_id = first_days.evse_id
    where recompute.recompute_from is not null
    {%- else %}
    from first_days
    {%- endif %}

),

final as (

    select
        grid.evse_id,
        grid.date,
        evses.make_name,
        evses.model_name,
        coalesce(daily_gaps.count_samples, 0) as count_samples,
        daily_gaps.first_sampled_at,
        daily_gaps.last_sampled_at,
        greatest(
            daily_gaps.max_gap_within_day_seconds,
            daily_gaps.gap_since_previous_day_seconds
        ) as max_gap_seconds,
        list_aggregate(daily_gaps.late_arrival_seconds, 'median')
            as median_late_arrival_seconds,
        daily_gaps.max_late_arrival_seconds,
        daily_gaps.is_charging_null_share,
        -- the day's end plus the upload delay has not passed the newest sample yet
        to_timestamp((grid.date + 1 - date '1970-01-01') * 86400)
        + {{ param_interval('lookback_seconds') }}
        > {{ data_through() }} as is_provisional,

    from grid
    left join daily_gaps
        on grid.evse_id = daily_gaps.evse_id
        and grid.date = daily_gaps.date
    left join evses
        on grid.evse_id = evses.evse_id

)

select * from final
