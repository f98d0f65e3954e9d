-- Contact history, for frequency caps.
select
    contact_id::varchar   as contact_id,
    member_id::varchar    as member_id,
    contact_date::date    as contact_date,
    channel::varchar      as channel,
    purpose::varchar      as purpose,
    source_line::bigint   as source_line
from source
