-- Contact history, typed from the export's text (for frequency caps): one row per line.
-- q<stage><r|v>_<column>: the reason the row is quarantined (r) or the value dropped (v)
-- at stage 0 the reader, 1 hostile values, 2 values, 5 duplicate ids, 6 unknown members.
-- `_plain` (the reader's, `lib/read/screen.py`): nothing in the row to screen or normalise.
with

screened as (
    select
        *,
        hostile_unless(_plain, contact_id, true, false, []) as contact_id_why,
        hostile_unless(_plain, member_id, true, false, []) as member_id_why,
        hostile_unless(_plain, date, false, false, []) as date_why,
        hostile_unless(_plain, channel, true, false, []) as channel_why,
        hostile_unless(_plain, purpose, true, false, []) as purpose_why
    from raw
),

texts as (
    select
        *,
        screened(contact_id, contact_id_why) as contact_id_raw,
        screened(member_id, member_id_why) as member_id_raw,
        screened(date, date_why) as date_raw,
        norm_unless(_plain, screened(date, date_why)) as date_text
    from screened
),

typed as (
    select
        *,
        norm_unless(_plain, contact_id_raw) as contact_id_value,
        norm_unless(_plain, member_id_raw) as member_id_value,
        parse_date(date_text) as contact_date,
        clean_unless(_plain, screened(channel, channel_why)) as channel_value,
        clean_unless(_plain, screened(purpose, purpose_why)) as purpose_value
    from texts
),

checked as (
    select
        *,
        problem(_problem is not null, _problem) as q0r_,
        problem(contact_id_why is not null, 'contact_id: ' || contact_id_why) as q1r_contact_id,
        problem(member_id_why is not null, 'member_id: ' || member_id_why) as q1r_member_id,
        problem(date_why is not null, 'date: ' || date_why) as q1r_date,
        problem(channel_why is not null, 'channel: ' || channel_why) as q1v_channel,
        problem(purpose_why is not null, 'purpose: ' || purpose_why) as q1v_purpose,
        checked(contact_id_value, contact_id_value is not null, true, 'contact_id', '') as q2r_contact_id,
        checked(member_id_value, member_id_value is not null, true, 'member_id', '') as q2r_member_id,
        checked(contact_date, date_text is not null, true, 'date', 'not a valid date') as q2r_date
    from typed
),

usable as (
    select
        *,
        coalesce(q0r_, q1r_contact_id, q1r_member_id, q1r_date, q2r_contact_id, q2r_member_id,
                 q2r_date) is not null as is_unusable,
        null::varchar as q5r_contact_id,  -- set by duplicate_ids.sql
        null::varchar as q6r_member_id  -- set by unknown_members.sql
    from checked
),

final as (
    select
        contact_id_value as contact_id,
        member_id_value as member_id,
        contact_date,
        channel_value as channel,
        purpose_value as purpose,
        _line as source_line,
        is_unusable as is_quarantined,  -- duplicate_ids.sql and unknown_members.sql add more
        columns('^q\d[rv]_')
    from usable
)

select * from final
