-- Returned mail: the piece (or the member) whose letter came back undelivered.
select
    piece_id::varchar     as piece_id,
    member_id::varchar    as member_id,
    returned_on::date     as returned_on,
    reason::varchar       as reason,
    source_line::bigint   as source_line
from source
