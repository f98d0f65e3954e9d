-- Returned mail, typed from the export's text: one row per line naming the piece (or the
-- member) whose letter came back undelivered.
-- q<stage><r|v>_<column>: the reason the row is quarantined (r) or the value dropped (v)
-- at stage 0 the reader, 1 hostile values, 2 values, 4 neither piece nor member,
-- 6 unknown members.
-- `_plain` (the reader's, `lib/read/screen.py`): nothing in the row to screen or normalise.
with

screened as (
    select
        *,
        hostile_unless(_plain, piece_id, true, false, []) as piece_id_why,
        hostile_unless(_plain, member_id, true, false, []) as member_id_why,
        hostile_unless(_plain, returned_on, false, false, []) as returned_on_why,
        hostile_unless(_plain, reason, true, false, []) as reason_why
    from raw
),

texts as (
    select
        *,
        screened(returned_on, returned_on_why) as returned_on_raw,
        norm_unless(_plain, screened(returned_on, returned_on_why)) as returned_on_text
    from screened
),

typed as (
    select
        *,
        norm_unless(_plain, screened(piece_id, piece_id_why)) as piece_id_value,
        norm_unless(_plain, screened(member_id, member_id_why)) as member_id_value,
        parse_date(returned_on_text) as returned_on_value,
        clean_unless(_plain, screened(reason, reason_why)) as reason_value
    from texts
),

checked as (
    select
        typed.*,
        problem(_problem is not null, _problem) as q0r_,
        problem(piece_id_why is not null, 'piece_id: ' || piece_id_why) as q1v_piece_id,
        problem(member_id_why is not null, 'member_id: ' || member_id_why) as q1v_member_id,
        problem(returned_on_why is not null, 'returned_on: ' || returned_on_why) as q1r_returned_on,
        problem(reason_why is not null, 'reason: ' || reason_why) as q1v_reason,
        checked(returned_on_value, returned_on_text is not null, true, 'returned_on', 'not a valid date') as q2r_returned_on,
        problem(piece_id_value is null and member_id_value is null,
                'piece_id or member_id: required, all blank') as q4r_piece_id,
        null::varchar as q6r_member_id  -- set by unknown_members.sql
    from typed
),

final as (
    select
        piece_id_value as piece_id,
        member_id_value as member_id,
        returned_on_value as returned_on,
        reason_value as reason,
        _line as source_line,
        coalesce(q0r_, q1r_returned_on, q2r_returned_on, q4r_piece_id, q6r_member_id) is not null
            as is_quarantined,
        columns('^q\d[rv]_')
    from checked
)

select * from final
