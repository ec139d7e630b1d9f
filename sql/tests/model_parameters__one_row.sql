-- model_parameters: exactly one row, with a positive response window. Returns one row when
-- there is not exactly one, or when the window is not positive.
select
    count(*) as count_rows,
from {{ ref('model_parameters') }}
having count(*) <> 1 or min(response_window_seconds) <= 0
