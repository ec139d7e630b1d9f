-- evse_reporting_health: one row per EVSE and UTC day of sampled_at on which it reported at
-- least one status log: how many, the longest silence, how late the samples arrived.
-- key: (evse_id, date)
with

status_logs as (

    select * from analytics.stg_status_logs

),

evses as (

    select * from analytics.stg_evses

),

samples as (

    -- epoch arithmetic rather than timezone() and interval maths: the same UTC day and
    -- seconds, ten times cheaper over every sample
    select
        evse_id,
        date '1970-01-01' + cast(epoch_us(sampled_at) // 86400000000 as integer) as date,
        sampled_at,
        is_charging,
        (epoch_us(logged_at) - epoch_us(sampled_at)) / 1000000 as late_arrival_seconds,

    from status_logs

),

daily as (

    select
        evse_id,
        date,
        count(*) as count_status_logs,
        min(sampled_at) as first_sampled_at,
        max(sampled_at) as last_sampled_at,
        max(late_arrival_seconds) as max_late_arrival_seconds,
        count(*) filter (where is_charging is null) / count(*) as is_charging_null_share,
        -- per-day lists instead of median() and a window over every sample: both are far
        -- slower on 20 M rows in DuckDB (measured in pipelines/bench/models.py)
        list(late_arrival_seconds) as late_arrival_seconds,
        -- the day's sample times in order: neighbours give the gaps
        list_sort(list(epoch_us(sampled_at))) as sampled_at_microseconds,

    from samples
    group by evse_id, date

),

daily_gaps as (

    select
        *,
        list_max(list_transform(
            range(2, len(sampled_at_microseconds) + 1),
            lambda i: sampled_at_microseconds[i] - sampled_at_microseconds[i - 1]
        )) / 1000000 as max_gap_within_day_seconds,
        -- the silence since the previous day's last sample counts on this day
        epoch(
            first_sampled_at
            - lag(last_sampled_at) over (partition by evse_id order by date)
        ) as gap_since_previous_day_seconds,

    from daily

),

final as (

    select
        daily_gaps.evse_id,
        daily_gaps.date,
        evses.make_name,
        evses.model_name,
        daily_gaps.count_status_logs,
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

    from daily_gaps
    left join evses
        on daily_gaps.evse_id = evses.evse_id

)

select * from final
