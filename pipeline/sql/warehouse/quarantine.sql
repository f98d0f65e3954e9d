-- Every unusable row and every dropped value, with where it was and why.
select
    "table"::varchar   as "table",
    file::varchar      as file,
    line::bigint       as line,
    "column"::varchar  as "column",
    value::varchar     as value,
    reason::varchar    as reason,
    action::varchar    as action
from source
