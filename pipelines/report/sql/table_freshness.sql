-- table_freshness: the header's "data through", one row per raw table.
select table_name, count_rows, freshness_column, newest_at, last_loaded_at,
from analytics.table_freshness
order by table_name
