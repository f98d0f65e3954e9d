-- Transactions, typed from the export's text: one row per line item (several may share
-- txn_id; negative amounts are returns).
-- q<stage><r|v>_<column>: the reason the row is quarantined (r) or the value dropped (v)
-- at stage 0 the reader, 1 hostile values, 2 values, 6 unknown members.
-- `_plain` (the reader's, `lib/read/screen.py`): nothing in the row to screen or normalise.
with

screened as (
    select
        _line,
        _problem,
        _plain,
        txn_id, member_id, date, amount, category, channel,
        hostile_unless(_plain, txn_id, true, false, []) as txn_id_why,
        hostile_unless(_plain, member_id, true, false, []) as member_id_why,
        hostile_unless(_plain, date, false, false, []) as date_why,
        hostile_unless(_plain, amount, false, false, []) as amount_why,
        hostile_unless(_plain, category, true, false, []) as category_why,
        hostile_unless(_plain, channel, true, false, []) as channel_why
    from raw
),

texts as (
    select
        *,
        screened(txn_id, txn_id_why) as txn_id_raw,
        screened(member_id, member_id_why) as member_id_raw,
        screened(date, date_why) as date_raw,
        norm_unless(_plain, screened(date, date_why)) as date_text,
        screened(amount, amount_why) as amount_raw,
        norm_unless(_plain, screened(amount, amount_why)) as amount_text
    from screened
),

typed as (
    select
        *,
        norm_unless(_plain, txn_id_raw) as txn_id_value,
        norm_unless(_plain, member_id_raw) as member_id_value,
        parse_timestamp(date_text) as txn_at,
        parse_money(amount_text) as amount_cny,
        clean_unless(_plain, screened(category, category_why)) as category_value,
        clean_unless(_plain, screened(channel, channel_why)) as channel_value
    from texts
),

checked as (
    select
        typed.*,
        problem(_problem is not null, _problem) as q0r_,
        problem(txn_id_why is not null, 'txn_id: ' || txn_id_why) as q1r_txn_id,
        problem(member_id_why is not null, 'member_id: ' || member_id_why) as q1r_member_id,
        problem(date_why is not null, 'date: ' || date_why) as q1r_date,
        problem(amount_why is not null, 'amount: ' || amount_why) as q1r_amount,
        problem(category_why is not null, 'category: ' || category_why) as q1v_category,
        problem(channel_why is not null, 'channel: ' || channel_why) as q1v_channel,
        checked(txn_id_value, txn_id_value is not null, true, 'txn_id', '') as q2r_txn_id,
        checked(member_id_value, member_id_value is not null, true, 'member_id', '') as q2r_member_id,
        checked(txn_at, date_text is not null, true, 'date', 'not a valid date or time') as q2r_date,
        checked(amount_cny, amount_text is not null, true, 'amount', 'not an amount') as q2r_amount,
        null::varchar as q6r_member_id  -- set by unknown_members.sql
    from typed
),

final as (
    select
        txn_id_value as txn_id,
        member_id_value as member_id,
        txn_at,
        amount_cny,
        category_value as category,
        channel_value as channel,
        _line as source_line,
        coalesce(q0r_, q1r_txn_id, q1r_member_id, q1r_date, q1r_amount, q2r_txn_id, q2r_member_id,
                 q2r_date, q2r_amount, q6r_member_id) is not null as is_quarantined,
        columns('^q\d[rv]_')
    from checked
)

select * from final
