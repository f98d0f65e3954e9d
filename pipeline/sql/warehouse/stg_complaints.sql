-- Complaints; member_id may be blank or unknown and the case still counts.
select
    complaint_id::varchar         as complaint_id,
    member_id::varchar            as member_id,
    is_known_member::boolean      as is_known_member,
    received_at::timestamp        as received_at,
    channel::varchar              as channel,
    category::varchar             as category,
    severity::varchar             as severity,
    owner::varchar                as owner,
    first_response_at::timestamp  as first_response_at,
    resolved_at::timestamp        as resolved_at,
    status::varchar               as status,
    satisfaction::tinyint         as satisfaction,
    description::varchar          as description,
    source_line::bigint           as source_line
from source
