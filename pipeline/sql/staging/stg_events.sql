-- Club events for the newsletter, typed from the export's text: one row per line.
-- q<stage><r|v>_<column>: the reason the row is quarantined (r) or the value dropped (v)
-- at stage 0 the reader, 1 hostile values, 2 values, 5 duplicate ids.
-- `_plain` (the reader's, `lib/read/screen.py`): nothing in the row to screen or normalise.
with

screened as (
    select
        *,
        hostile_unless(_plain, event_id, true, false, []) as event_id_why,
        hostile_unless(_plain, title, true, false, []) as title_why,
        hostile_unless(_plain, date, false, false, []) as date_why,
        hostile_unless(_plain, location, true, false, []) as location_why,
        hostile_unless(_plain, description, true, false, []) as description_why,
        hostile_unless(_plain, audience, true, false, []) as audience_why
    from raw
),

texts as (
    select
        *,
        screened(event_id, event_id_why) as event_id_raw,
        screened(title, title_why) as title_raw,
        screened(date, date_why) as date_raw,
        norm_unless(_plain, screened(date, date_why)) as date_text
    from screened
),

typed as (
    select
        *,
        norm_unless(_plain, event_id_raw) as event_id_value,
        clean_unless(_plain, title_raw) as title_value,
        parse_date(date_text) as event_date,
        clean_unless(_plain, screened(location, location_why)) as location_value,
        clean_unless(_plain, screened(description, description_why)) as description_value,
        clean_unless(_plain, screened(audience, audience_why)) as audience_value
    from texts
),

checked as (
    select
        *,
        problem(_problem is not null, _problem) as q0r_,
        problem(event_id_why is not null, 'event_id: ' || event_id_why) as q1r_event_id,
        problem(title_why is not null, 'title: ' || title_why) as q1r_title,
        problem(date_why is not null, 'date: ' || date_why) as q1r_date,
        problem(location_why is not null, 'location: ' || location_why) as q1v_location,
        problem(description_why is not null, 'description: ' || description_why) as q1v_description,
        problem(audience_why is not null, 'audience: ' || audience_why) as q1v_audience,
        checked(event_id_value, event_id_value is not null, true, 'event_id', '') as q2r_event_id,
        checked(title_value, title_value is not null, true, 'title', '') as q2r_title,
        checked(event_date, date_text is not null, true, 'date', 'not a valid date') as q2r_date
    from typed
),

usable as (
    select
        *,
        coalesce(q0r_, q1r_event_id, q1r_title, q1r_date, q2r_event_id, q2r_title, q2r_date)
            is not null as is_unusable,
        null::varchar as q5r_event_id  -- set by duplicate_ids.sql
    from checked
),

final as (
    select
        event_id_value as event_id,
        title_value as title,
        event_date,
        location_value as location,
        description_value as description,
        audience_value as audience,
        _line as source_line,
        is_unusable as is_quarantined,  -- duplicate_ids.sql adds more
        columns('^q\d[rv]_')
    from usable
)

select * from final
