-- Transaction line items (several rows may share txn_id); negative amounts are returns.
select
    txn_id::varchar           as txn_id,
    member_id::varchar        as member_id,
    txn_at::timestamp         as txn_at,
    amount_cny::decimal(14,2) as amount_cny,
    category::varchar         as category,
    channel::varchar          as channel,
    source_line::bigint       as source_line
from source
