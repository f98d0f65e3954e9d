-- Club activities for the newsletter.
select
    event_id::varchar     as event_id,
    title::varchar        as title,
    event_date::date      as event_date,
    location::varchar     as location,
    description::varchar  as description,
    audience::varchar     as audience,
    source_line::bigint   as source_line
from source
