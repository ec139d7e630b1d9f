-- pipeline_runs: one row per `evenergy-etl run` (the run history the nightly job writes into
-- the warehouse), with its duration.
-- key: run_id
{{ config(materialized='view') }}
with

runs as (

    select * from {{ source('evenergy', '_evenergy_runs') }}

),

final as (

    select
        *,
        epoch(ended_at - started_at) as duration_seconds,

    from runs

)

select * from final
