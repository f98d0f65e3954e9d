-- Members, typed from the export's text: one row per line of the members export.
-- q<stage><r|v>_<column>: the reason the row is quarantined (r) or the value dropped (v)
-- at stage 0 the reader, 1 hostile values, 2 values, 3 lunar birth dates, 5 duplicate
-- ids; `extra_problems` those of unknown columns. A lunar `birth_date` is read as a lunar
-- date (`1990-02-30` is valid): `birth_date` becomes the Gregorian day of birth and
-- `birth_lunar` keeps the lunar date as written. Contract defaults: solar calendar,
-- zh-CN, post consented unless refused, e-mail and SMS not, flags false.
with

-- `_plain`: nothing in the row to screen or normalise (`plain_row`: the reader's `_plain`,
-- and no character the letter fonts lack)
raw as (
    select
        * exclude (_plain),
        plain_row(_plain, concat_ws(chr(65535), *columns(lambda c: not starts_with(c, '_'))),
                  $unprintable) as _plain
    from raw
),
-- Each enum column's synonyms (lower-cased text -> value) as one map: a lookup keeps the
-- rows in file order, where a join with the synonyms table did not (the rows were then
-- sorted back, 0.5 s at a million members).
synonym_maps as (
    select
        map_from_entries(list((key, value)) filter (where column_name = 'gender'))            as gender,
        map_from_entries(list((key, value)) filter (where column_name = 'birth_calendar'))    as birth_calendar,
        map_from_entries(list((key, value)) filter (where column_name = 'bool'))              as bool,
        map_from_entries(list((key, value)) filter (where column_name = 'language'))          as language,
        map_from_entries(list((key, value)) filter (where column_name = 'preferred_channel')) as preferred_channel
    from synonyms
),

screened as (
    select
        *,
        hostile_unless(_plain, member_id, true, false, []) as member_id_why,
        hostile_unless(_plain, name, true, true, $unprintable) as name_why,
        hostile_unless(_plain, gender, false, false, []) as gender_why,
        hostile_unless(_plain, birth_date, false, false, []) as birth_date_why,
        hostile_unless(_plain, birth_calendar, false, false, []) as birth_calendar_why,
        hostile_unless(_plain, birth_lunar_leap, false, false, []) as birth_lunar_leap_why,
        hostile_unless(_plain, phone, false, false, []) as phone_why,
        hostile_unless(_plain, email, false, false, []) as email_why,
        hostile_unless(_plain, province, true, true, $unprintable) as province_why,
        hostile_unless(_plain, city, true, true, $unprintable) as city_why,
        hostile_unless(_plain, district, true, true, $unprintable) as district_why,
        hostile_unless(_plain, address, true, true, $unprintable) as address_why,
        hostile_unless(_plain, postal_code, false, false, []) as postal_code_why,
        hostile_unless(_plain, join_date, false, false, []) as join_date_why,
        hostile_unless(_plain, move_in_date, false, false, []) as move_in_date_why,
        hostile_unless(_plain, language, false, false, []) as language_why,
        hostile_unless(_plain, preferred_channel, false, false, []) as preferred_channel_why,
        hostile_unless(_plain, consent_post, false, false, []) as consent_post_why,
        hostile_unless(_plain, consent_email, false, false, []) as consent_email_why,
        hostile_unless(_plain, consent_sms, false, false, []) as consent_sms_why,
        hostile_unless(_plain, do_not_contact, false, false, []) as do_not_contact_why,
        hostile_unless(_plain, deceased, false, false, []) as deceased_why,
        hostile_unless(_plain, household_id, true, false, []) as household_id_why,
        list_transform(_extra, lambda e: {
            'column_name': e.column_name, 'value': e.value,
            'why': hostile(e.value, true, false, [])}) as extra_screened
    from raw
),

texts as (
    select
        *,
        screened(member_id, member_id_why) as member_id_raw,
        screened(name, name_why) as name_raw,
        screened(gender, gender_why) as gender_raw,
        screened(birth_date, birth_date_why) as birth_date_raw,
        screened(birth_calendar, birth_calendar_why) as birth_calendar_raw,
        screened(birth_lunar_leap, birth_lunar_leap_why) as birth_lunar_leap_raw,
        screened(phone, phone_why) as phone_raw,
        screened(email, email_why) as email_raw,
        screened(postal_code, postal_code_why) as postal_code_raw,
        screened(join_date, join_date_why) as join_date_raw,
        screened(move_in_date, move_in_date_why) as move_in_date_raw,
        screened(language, language_why) as language_raw,
        screened(preferred_channel, preferred_channel_why) as preferred_channel_raw,
        screened(consent_post, consent_post_why) as consent_post_raw,
        screened(consent_email, consent_email_why) as consent_email_raw,
        screened(consent_sms, consent_sms_why) as consent_sms_raw,
        screened(do_not_contact, do_not_contact_why) as do_not_contact_raw,
        screened(deceased, deceased_why) as deceased_raw
    from screened
),

normalised as (
    select
        *,
        norm_unless(_plain, gender_raw) as gender_text,
        norm_unless(_plain, birth_date_raw) as birth_date_text,
        norm_unless(_plain, birth_calendar_raw) as birth_calendar_text,
        norm_unless(_plain, birth_lunar_leap_raw) as birth_lunar_leap_text,
        norm_unless(_plain, phone_raw) as phone_text,
        norm_unless(_plain, email_raw) as email_text,
        norm_unless(_plain, postal_code_raw) as postal_code_text,
        norm_unless(_plain, join_date_raw) as join_date_text,
        norm_unless(_plain, move_in_date_raw) as move_in_date_text,
        norm_unless(_plain, language_raw) as language_text,
        norm_unless(_plain, preferred_channel_raw) as preferred_channel_text,
        norm_unless(_plain, consent_post_raw) as consent_post_text,
        norm_unless(_plain, consent_email_raw) as consent_email_text,
        norm_unless(_plain, consent_sms_raw) as consent_sms_text,
        norm_unless(_plain, do_not_contact_raw) as do_not_contact_text,
        norm_unless(_plain, deceased_raw) as deceased_text
    from texts
),

typed as (
    select
        normalised.*,
        norm_unless(_plain, member_id_raw) as member_id_value,
        clean_unless(_plain, name_raw) as name_value,
        synonym_maps.gender[lower(gender_text)] as gender_value,
        parse_date(birth_date_text) as birth_date_solar,
        synonym_maps.birth_calendar[lower(birth_calendar_text)] as birth_calendar_value,
        synonym_maps.bool[lower(birth_lunar_leap_text)]::boolean as birth_lunar_leap_value,
        parse_phone(phone_text) as phone_value,
        parse_email(email_text) as email_value,
        clean_unless(_plain, screened(province, province_why)) as province_value,
        clean_unless(_plain, screened(city, city_why)) as city_value,
        clean_unless(_plain, screened(district, district_why)) as district_value,
        clean_unless(_plain, screened(address, address_why)) as address_value,
        parse_postcode(postal_code_text) as postal_code_value,
        parse_date(join_date_text) as join_date_value,
        parse_date(move_in_date_text) as move_in_date_value,
        synonym_maps.language[lower(language_text)] as language_value,
        synonym_maps.preferred_channel[lower(preferred_channel_text)] as preferred_channel_value,
        synonym_maps.bool[lower(consent_post_text)]::boolean as consent_post_value,
        synonym_maps.bool[lower(consent_email_text)]::boolean as consent_email_value,
        synonym_maps.bool[lower(consent_sms_text)]::boolean as consent_sms_value,
        synonym_maps.bool[lower(do_not_contact_text)]::boolean as do_not_contact_value,
        synonym_maps.bool[lower(deceased_text)]::boolean as deceased_value,
        clean_unless(_plain, screened(household_id, household_id_why)) as household_id_value,
        list_transform(extra_screened, lambda e: {
            'column_name': e.column_name, 'value': screened(e.value, e.why), 'why': e.why})
            as extra_values
    from normalised, synonym_maps
),

lunar_dates as (
    select
        *,
        coalesce(birth_calendar_value = 'lunar', false) as is_lunar,
        case when coalesce(birth_calendar_value = 'lunar', false) then
            case when date_parts(birth_date_text).year <> ''
                 then date_parts(birth_date_text) else compact_parts(birth_date_text) end
        end as lunar_parts
    from typed
),

lunar as (
    select
        *,
        -- (a Python function: called only for the lunar rows)
        case when is_lunar then
            lunar_solar(struct_extract(lunar_parts, 'year')::int,
                        struct_extract(lunar_parts, 'month')::int,
                        struct_extract(lunar_parts, 'day')::int,
                        coalesce(birth_lunar_leap_value, false))
        end as lunar_birth
    from lunar_dates
),

checked as (
    select
        *,
        problem(_problem is not null, _problem) as q0r_,
        problem(member_id_why is not null, 'member_id: ' || member_id_why) as q1r_member_id,
        problem(name_why is not null, 'name: ' || name_why) as q1r_name,
        problem(gender_why is not null, 'gender: ' || gender_why) as q1v_gender,
        problem(birth_date_why is not null and not is_lunar, 'birth_date: ' || birth_date_why) as q1v_birth_date,
        problem(birth_calendar_why is not null, 'birth_calendar: ' || birth_calendar_why) as q1v_birth_calendar,
        problem(birth_lunar_leap_why is not null, 'birth_lunar_leap: ' || birth_lunar_leap_why) as q1v_birth_lunar_leap,
        problem(phone_why is not null, 'phone: ' || phone_why) as q1v_phone,
        problem(email_why is not null, 'email: ' || email_why) as q1v_email,
        problem(province_why is not null, 'province: ' || province_why) as q1v_province,
        problem(city_why is not null, 'city: ' || city_why) as q1v_city,
        problem(district_why is not null, 'district: ' || district_why) as q1v_district,
        problem(address_why is not null, 'address: ' || address_why) as q1v_address,
        problem(postal_code_why is not null, 'postal_code: ' || postal_code_why) as q1v_postal_code,
        problem(join_date_why is not null, 'join_date: ' || join_date_why) as q1v_join_date,
        problem(move_in_date_why is not null, 'move_in_date: ' || move_in_date_why) as q1v_move_in_date,
        problem(language_why is not null, 'language: ' || language_why) as q1v_language,
        problem(preferred_channel_why is not null, 'preferred_channel: ' || preferred_channel_why) as q1v_preferred_channel,
        problem(consent_post_why is not null, 'consent_post: ' || consent_post_why) as q1v_consent_post,
        problem(consent_email_why is not null, 'consent_email: ' || consent_email_why) as q1v_consent_email,
        problem(consent_sms_why is not null, 'consent_sms: ' || consent_sms_why) as q1v_consent_sms,
        problem(do_not_contact_why is not null, 'do_not_contact: ' || do_not_contact_why) as q1v_do_not_contact,
        problem(deceased_why is not null, 'deceased: ' || deceased_why) as q1v_deceased,
        problem(household_id_why is not null, 'household_id: ' || household_id_why) as q1v_household_id,
        list_transform(list_filter(extra_screened, lambda e: e.why is not null), lambda e: {
            'column_name': e.column_name, 'reason': e.column_name[7:] || ': ' || e.why})
            as extra_problems,
        checked(member_id_value, member_id_value is not null, true, 'member_id', '') as q2r_member_id,
        checked(name_value, name_value is not null, true, 'name', '') as q2r_name,
        checked(gender_value, gender_text is not null, false, 'gender', 'not a gender (M/F/男/女/先生/女士)') as q2v_gender,
        case when not is_lunar then coalesce(
            checked(birth_date_solar, birth_date_text is not null, false, 'birth_date', 'not a valid date'),
            problem(birth_date_solar > $as_of::date,
                    'birth_date: after the data cut-off ' || strftime($as_of::date, '%Y-%m-%d')))
        end as q2v_birth_date,
        checked(birth_calendar_value, birth_calendar_text is not null, false, 'birth_calendar', 'not one of solar/lunar') as q2v_birth_calendar,
        checked(birth_lunar_leap_value, birth_lunar_leap_text is not null, false, 'birth_lunar_leap', 'not a yes/no value') as q2v_birth_lunar_leap,
        checked(phone_value, phone_text is not null, false, 'phone', 'not a valid phone number') as q2v_phone,
        checked(email_value, email_text is not null, false, 'email', 'not a valid e-mail address') as q2v_email,
        checked(postal_code_value, postal_code_text is not null, false, 'postal_code', 'not a six-digit postal code') as q2v_postal_code,
        checked(join_date_value, join_date_text is not null, false, 'join_date', 'not a valid date') as q2v_join_date,
        checked(move_in_date_value, move_in_date_text is not null, false, 'move_in_date', 'not a valid date') as q2v_move_in_date,
        checked(language_value, language_text is not null, false, 'language', 'not one of zh-CN/zh-TW/en') as q2v_language,
        checked(preferred_channel_value, preferred_channel_text is not null, false, 'preferred_channel', 'not one of post/email/sms') as q2v_preferred_channel,
        checked(consent_post_value, consent_post_text is not null, false, 'consent_post', 'not a yes/no value') as q2v_consent_post,
        checked(consent_email_value, consent_email_text is not null, false, 'consent_email', 'not a yes/no value') as q2v_consent_email,
        checked(consent_sms_value, consent_sms_text is not null, false, 'consent_sms', 'not a yes/no value') as q2v_consent_sms,
        checked(do_not_contact_value, do_not_contact_text is not null, false, 'do_not_contact', 'not a yes/no value') as q2v_do_not_contact,
        checked(deceased_value, deceased_text is not null, false, 'deceased', 'not a yes/no value') as q2v_deceased,
        problem(is_lunar and birth_date_text is not null and lunar_birth is null,
                'birth_date: not a valid lunar date (month, day or leap month)') as q3v_birth_date
    from lunar
),

usable as (
    select
        *,
        coalesce(q0r_, q1r_member_id, q1r_name, q2r_member_id, q2r_name) is not null as is_unusable,
        null::varchar as q5r_member_id  -- set by duplicate_ids.sql
    from checked
),

final as (
    select
        member_id_value as member_id,
        name_value as name,
        gender_value as gender,
        case when is_lunar then lunar_birth::timestamp
             when birth_date_solar <= $as_of::date or $as_of is null then birth_date_solar
        end as birth_date,
        coalesce(birth_calendar_value, 'solar') as birth_calendar,
        coalesce(birth_lunar_leap_value, false) as is_birth_lunar_leap,
        phone_value as phone,
        email_value as email,
        province_value as province,
        city_value as city,
        district_value as district,
        address_value as address,
        postal_code_value as postal_code,
        join_date_value as join_date,
        move_in_date_value as move_in_date,
        coalesce(language_value, 'zh-CN') as language,
        preferred_channel_value as preferred_channel,
        coalesce(consent_post_value, true) as has_consent_post,
        coalesce(consent_email_value, false) as has_consent_email,
        coalesce(consent_sms_value, false) as has_consent_sms,
        coalesce(do_not_contact_value, false) as is_do_not_contact,
        coalesce(deceased_value, false) as is_deceased,
        household_id_value as household_id,
        case when is_lunar and lunar_birth is not null then
            printf('%04d-%02d-%02d', struct_extract(lunar_parts, 'year')::int,
                   struct_extract(lunar_parts, 'month')::int,
                   struct_extract(lunar_parts, 'day')::int)
        end as birth_lunar,
        '{' || array_to_string(list_transform(extra_values, lambda e:
            to_json(e.column_name[7:])::varchar || ': ' || to_json(e.value)::varchar), ', ')
            || '}' as extra,
        _line as source_line,
        case gender_value when 'M' then 'mr' when 'F' then 'ms' else 'neutral' end as salutation,
        is_unusable as is_quarantined,  -- duplicate_ids.sql adds more
        columns('^q\d[rv]_'),
        extra_problems
    from usable
)

select * from final
