-- Complaints, typed from the export's text: one row per line; member_id may be blank or
-- name no loaded member and the case still counts (`is_known_member` says which).
-- q<stage><r|v>_<column>: the reason the row is quarantined (r) or the value dropped (v)
-- at stage 0 the reader, 1 hostile values, 2 values, 5 duplicate ids.
-- `_plain` (the reader's, `lib/read/screen.py`): nothing in the row to screen or normalise.
with

-- The status synonyms (lower-cased text -> value) as a map: a lookup keeps the rows in
-- file order, where a join did not (stg_members.sql).
status_synonyms as (
    select map_from_entries(list((key, value))) as status
    from synonyms
    where column_name = 'status'
),
known_members as (select member_id from known_members),

screened as (
    select
        *,
        hostile_unless(_plain, complaint_id, true, false, []) as complaint_id_why,
        hostile_unless(_plain, member_id, true, false, []) as member_id_why,
        hostile_unless(_plain, received_at, false, false, []) as received_at_why,
        hostile_unless(_plain, channel, true, false, []) as channel_why,
        hostile_unless(_plain, category, true, false, []) as category_why,
        hostile_unless(_plain, severity, true, false, []) as severity_why,
        hostile_unless(_plain, owner, true, false, []) as owner_why,
        hostile_unless(_plain, first_response_at, false, false, []) as first_response_at_why,
        hostile_unless(_plain, resolved_at, false, false, []) as resolved_at_why,
        hostile_unless(_plain, status, false, false, []) as status_why,
        hostile_unless(_plain, satisfaction, false, false, []) as satisfaction_why,
        hostile_unless(_plain, description, true, false, []) as description_why
    from raw
),

texts as (
    select
        *,
        screened(complaint_id, complaint_id_why) as complaint_id_raw,
        screened(received_at, received_at_why) as received_at_raw,
        norm_unless(_plain, screened(received_at, received_at_why)) as received_at_text,
        screened(first_response_at, first_response_at_why) as first_response_at_raw,
        norm_unless(_plain, screened(first_response_at, first_response_at_why)) as first_response_at_text,
        screened(resolved_at, resolved_at_why) as resolved_at_raw,
        norm_unless(_plain, screened(resolved_at, resolved_at_why)) as resolved_at_text,
        screened(status, status_why) as status_raw,
        norm_unless(_plain, screened(status, status_why)) as status_text,
        screened(satisfaction, satisfaction_why) as satisfaction_raw,
        norm_unless(_plain, screened(satisfaction, satisfaction_why)) as satisfaction_text
    from screened
),

typed as (
    select
        texts.*,
        norm_unless(_plain, complaint_id_raw) as complaint_id_value,
        norm_unless(_plain, screened(member_id, member_id_why)) as member_id_value,
        parse_timestamp(received_at_text) as received_at_value,
        clean_unless(_plain, screened(channel, channel_why)) as channel_value,
        clean_unless(_plain, screened(category, category_why)) as category_value,
        clean_unless(_plain, screened(severity, severity_why)) as severity_value,
        clean_unless(_plain, screened(owner, owner_why)) as owner_value,
        parse_timestamp(first_response_at_text) as first_response_at_value,
        parse_timestamp(resolved_at_text) as resolved_at_value,
        status_synonyms.status[lower(status_text)] as status_value,
        parse_int(satisfaction_text, 1, 5) as satisfaction_value,
        clean_unless(_plain, screened(description, description_why)) as description_value
    from texts, status_synonyms
),

checked as (
    select
        *,
        problem(_problem is not null, _problem) as q0r_,
        problem(complaint_id_why is not null, 'complaint_id: ' || complaint_id_why) as q1r_complaint_id,
        problem(member_id_why is not null, 'member_id: ' || member_id_why) as q1v_member_id,
        problem(received_at_why is not null, 'received_at: ' || received_at_why) as q1r_received_at,
        problem(channel_why is not null, 'channel: ' || channel_why) as q1v_channel,
        problem(category_why is not null, 'category: ' || category_why) as q1v_category,
        problem(severity_why is not null, 'severity: ' || severity_why) as q1v_severity,
        problem(owner_why is not null, 'owner: ' || owner_why) as q1v_owner,
        problem(first_response_at_why is not null, 'first_response_at: ' || first_response_at_why) as q1v_first_response_at,
        problem(resolved_at_why is not null, 'resolved_at: ' || resolved_at_why) as q1v_resolved_at,
        problem(status_why is not null, 'status: ' || status_why) as q1v_status,
        problem(satisfaction_why is not null, 'satisfaction: ' || satisfaction_why) as q1v_satisfaction,
        problem(description_why is not null, 'description: ' || description_why) as q1v_description,
        checked(complaint_id_value, complaint_id_value is not null, true, 'complaint_id', '') as q2r_complaint_id,
        checked(received_at_value, received_at_text is not null, true, 'received_at', 'not a valid date or time') as q2r_received_at,
        checked(first_response_at_value, first_response_at_text is not null, false, 'first_response_at', 'not a valid date or time') as q2v_first_response_at,
        checked(resolved_at_value, resolved_at_text is not null, false, 'resolved_at', 'not a valid date or time') as q2v_resolved_at,
        checked(status_value, status_text is not null, false, 'status', 'not one of open/resolved/closed/reopened') as q2v_status,
        checked(satisfaction_value, satisfaction_text is not null, false, 'satisfaction', 'not a whole number from 1 to 5') as q2v_satisfaction
    from typed
),

usable as (
    select
        *,
        coalesce(q0r_, q1r_complaint_id, q1r_received_at, q2r_complaint_id, q2r_received_at)
            is not null as is_unusable,
        null::varchar as q5r_complaint_id  -- set by duplicate_ids.sql
    from checked
),

final as (
    select
        complaint_id_value as complaint_id,
        member_id_value as member_id,
        received_at_value as received_at,
        channel_value as channel,
        category_value as category,
        severity_value as severity,
        owner_value as owner,
        first_response_at_value as first_response_at,
        resolved_at_value as resolved_at,
        status_value as status,
        satisfaction_value as satisfaction,
        description_value as description,
        known_members.member_id is not null as is_known_member,
        _line as source_line,
        is_unusable as is_quarantined,  -- duplicate_ids.sql adds more
        columns('^q\d[rv]_')
    from usable
    left join known_members on known_members.member_id = usable.member_id_value
)

select * from final
