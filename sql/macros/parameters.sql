{#- The [models] parameters, passed as vars by pipelines/transform.py (dbt_project.yml holds
    the defaults). Each is a double literal, in SQL units. -#}
{% macro param(name) -%}
    cast({{ var(name) }} as double)
{%- endmacro %}

{#- An interval of `name` seconds. -#}
{% macro param_interval(name) -%}
    to_seconds(cast({{ var(name) }} as double))
{%- endmacro %}

{#- The newest sampled_at loaded: what "provisional" is measured against. The runner records it
    before the build (one scan for every model); run by hand, it is read from the raw table. -#}
{% macro data_through() -%}
    {%- set value = build_state('data_through') -%}
    {%- if value is not none -%}
        {{ timestamp_literal(value) }}
    {%- else -%}
        (select max(sampled_at) from {{ source('evenergy', 'status_logs') }})
    {%- endif -%}
{%- endmacro %}
