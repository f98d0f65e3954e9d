-- Value parsers of the staging models: one macro per column kind of `lib/read/schema.py`.
-- Grain: one value. Each parser takes the raw export text and returns the typed value, or
-- NULL when the cell is blank or cannot be understood; the models tell the two apart
-- (blank is missing, anything else is a bad value with a reason).

-- Whitespace as Python's `\s` knows it (the no-break, thin and ideographic spaces too).
create or replace macro ws() as '[\s\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]';

-- Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, as CRMs fed by Chinese
-- input methods write digits and punctuation, to their ASCII forms.
-- (`translate` only where such a character occurs: it is slow on every value.)
create or replace macro halfwidth(t) as case
    when strlen(t) <> length(t) and regexp_matches(t, '[\x{ff01}-\x{ff5e}\x{3000}]')
    then translate(t,
                   '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　',
                   '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ')
    else t
end;

-- Trimmed (ideographic and no-break spaces too); a blank cell is missing.
create or replace macro clean(t) as nullif(case
    when regexp_matches(t, '^[\s\x{3000}\x{a0}]|[\s\x{3000}\x{a0}]$')
    then trim(t, ' ' || chr(9) || chr(13) || chr(10) || chr(12288) || chr(160)) else t end, '');

-- Half-width and trimmed: ids and every value that is parsed.
create or replace macro norm(t) as clean(halfwidth(t));

-- The date and time parts of `1990-05-03`, `1990/5/3 9:05`, `1990.5.3`, `1990年5月3日`
-- (blank parts are ''), or of the compact `19900503`.
create or replace macro date_parts(t) as regexp_extract(
    t,
    '^(\d{4})' || ws() || '*[-/.年]' || ws() || '*(\d{1,2})' || ws() || '*[-/.月]' || ws()
        || '*(\d{1,2})' || ws() || '*[日号]?'
        || '(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2})(?:\.\d+)?)?)?$',
    ['year', 'month', 'day', 'hour', 'minute', 'second']);
create or replace macro compact_parts(t) as
    regexp_extract(t, '^(\d{4})(\d{2})(\d{2})$', ['year', 'month', 'day']);

-- Seconds into the day of a clock time; NULL past the clock (25:00, 23:61). The
-- zero-padded ISO form `YYYY-MM-DD HH:MM:SS` also takes the leap seconds 60 and 61, which
-- roll over into the next minute (but never into the next day), as strptime does.
create or replace macro clock_seconds(t, h, m, s) as (
    case
        when h::int <= 23 and m::int <= 59
            and s::int <= (case when regexp_full_match(t, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d')
                                then 61 else 59 end)
            and h::int * 3600 + m::int * 60 + s::int < 86400
        then h::int * 3600 + m::int * 60 + s::int
    end);

-- A date and time from its parts: NULL for a day the month lacks (2023-02-30).
create or replace macro stamp_of(t, p) as
    try(make_timestamp(p.year::int, p.month::int, p.day::int, 0, 0, 0))
    + to_seconds(clock_seconds(t, coalesce(nullif(p.hour, ''), '0'),
                               coalesce(nullif(p.minute, ''), '0'),
                               coalesce(nullif(p.second, ''), '0')));

-- Dates and timestamps in the forms `date_parts` reads, and Excel serial day numbers
-- (1900 date system, to the second): what `parse_when` hands on when strptime refuses a
-- value (the compact `19900503` never comes here).
-- (`list_transform([x], lambda p: ...)[1]` binds x once where it is used several times.)
create or replace macro any_timestamp(t) as coalesce(
    list_transform([date_parts(t)], lambda p: case when p.year <> '' then stamp_of(t, p) end)[1],
    case when regexp_full_match(t, '\d{3,5}(?:\.\d+)?') then
        timestamp '1899-12-30' + to_microseconds((round(t::double * 86400) * 1000000)::bigint)
    end);
-- The forms most exports use go through strptime (fast): the ISO ones and the dates
-- `1990/5/3`, `1990.5.3`, `1990年5月3日`, and the compact `19900503` (checked for eight
-- digits: strptime's `%Y%m%d` alone also reads seven). What it refuses goes through the
-- patterns above (they accept everything it does, the same), but for an ISO date, which
-- no form fits once strptime refused it (2023-02-30): the patterns cost as much for the
-- few rows that need them as for every row. strptime stops at the first of `forms` that
-- fits, and a form with a time never fits a date alone nor the reverse, so the order
-- changes no result, only the time: timestamps try the forms with a time first, dates
-- the date alone (a failed form cost 1 s per million values). Years outside 1900..2100
-- are not a member's dates.
create or replace macro parse_when(t, forms) as case when t is not null then list_transform(
    [coalesce(
        try_strptime(t, forms),
        case when regexp_full_match(t, '\d{8}') then try_strptime(t, '%Y%m%d')
             when not regexp_full_match(t, '\d{4}-\d\d-\d\d') then any_timestamp(t) end)],
    lambda s: case when s between timestamp '1900-01-01' and timestamp '2100-12-31' then s end)[1]
end;

create or replace macro parse_timestamp(t) as parse_when(
    t, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日']);

create or replace macro parse_date(t) as date_trunc('day', parse_when(
    t, ['%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日', '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M']));

-- Amounts in CNY: currency signs and 元, thousands separated by commas or by spaces
-- (one kind per amount, always groups of three), `(12.50)` negative; to the cent.
create or replace macro money_digits(t) as regexp_replace(
    trim(regexp_replace(regexp_replace(t, '^\((.*)\)$', '\1'), '[¥￥$]|CNY|RMB|元', '', 'gi'),
         ' ' || chr(160) || chr(8239)),
    '^([+-])' || ws() || '+', '\1');
create or replace macro parse_money(t) as round(case
    when regexp_full_match(t, '-?\d+(?:\.\d+)?') then t::double
    when regexp_full_match(
        money_digits(t),
        '[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \x{a0}\x{202f}]\d{3})+|\d+)(?:\.\d+)?')
    then (case when regexp_full_match(t, '\(.*\)') then -1 else 1 end)
        * try_cast(regexp_replace(money_digits(t), '[,\x{a0}\x{202f}]|' || ws(), '', 'g')
                   as double)
end, 2);

-- Whole numbers (`4`, `4.0`) within [low, high].
create or replace macro parse_int(t, low, high) as case
    when try_cast(t as double) = floor(try_cast(t as double))
        and try_cast(t as double) between low and high
    then try_cast(t as double)::bigint
end;

-- A plausible e-mail address (one @, a dotted domain, no spaces); the domain lower-cased.
create or replace macro parse_email(t) as case
    when regexp_full_match(
        t, '[A-Za-z0-9._%+''\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}')
    then split_part(t, '@', 1) || '@' || lower(split_part(t, '@', 2))
end;

-- Mainland postal codes: six digits (a leading apostrophe from Excel is dropped).
create or replace macro postcode_digits(t) as ltrim(t, '''');
create or replace macro parse_postcode(t) as case
    when regexp_full_match(postcode_digits(t), '\d{6}') then postcode_digits(t)
end;

-- Phone numbers without spaces, dashes, dots and brackets; mainland mobiles to E.164
-- here, any other number by `phonenumbers` (the `e164` function the ingest registers).
create or replace macro phone_digits(t) as regexp_replace(t, ws() || '|[\-().]', '', 'g');
create or replace macro parse_phone(t) as case
    when regexp_full_match(t, '1[3-9]\d{9}') then '+86' || t  -- most: a bare mobile number
    when regexp_full_match(phone_digits(t), '(?:\+?(?:00)?86)?1[3-9]\d{9}')
    then '+86' || right(phone_digits(t), 11)
    when t is not null then e164(phone_digits(t))
end;

-- Values no document or table should carry, whatever the column: the reason, or NULL.
-- A NUL byte is a damaged export; text past 10,000 characters is no name or address;
-- in text and id columns a spreadsheet formula (`=HYPERLINK(...)`, `+cmd|...`; `-60`,
-- `+86 138...` and a lone `-` are not formulas); in printed columns a character that no
-- letter font has (`unprintable`, the characters the ingest found missing, sorted).
create or replace macro hostile(t, formulas, printed, unprintable) as case
    when strlen(t) > 10000 and length(t) > 10000 then 'longer than 10,000 characters'
    when regexp_matches(t, '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
        then 'holds control characters such as NUL bytes (a damaged export)'
    when formulas and regexp_matches(t, '^\s*(?:=|[+\-@]\s*[A-Za-z_][\w.]*\s*[(|!])')
        then 'looks like a spreadsheet formula, not a value'
    when printed and len(unprintable) > 0
        and len(list_filter(unprintable, lambda c: contains(t, c))) > 0
    then 'has the character '
        || printf('U+%04X', unicode(list_filter(unprintable, lambda c: contains(t, c))[1]))
        || ' that no letter font can print (it would print as a box)'
end;

-- A row with nothing to screen or normalise, the common case: the reader's `plain` (no
-- control or full-width character, no value that starts or ends with a space or starts
-- like a formula, nothing past 10,000 characters: `lib/read/screen.py`, from the bytes)
-- and no character of `unprintable` in `row_text`, the row's values joined (read only
-- when the letter fonts lack a character of the export).
-- Every value of such a row is its own screened, normalised text, so the models skip
-- `hostile`, `norm` and `clean` for it (`hostile_unless`, `norm_unless`, `clean_unless`).
create or replace macro plain_row(plain, row_text, unprintable) as case
    when len(unprintable) = 0 then plain
    else plain and len(list_filter(unprintable, lambda c: contains(row_text, c))) = 0
end;
create or replace macro hostile_unless(plain, t, formulas, printed, unprintable) as
    case when not plain then hostile(t, formulas, printed, unprintable) end;
create or replace macro norm_unless(plain, t) as
    case when plain then nullif(t, '') else norm(t) end;
create or replace macro clean_unless(plain, t) as
    case when plain then nullif(t, '') else clean(t) end;

-- A value as quoted in the quarantine: at most 200 characters, control characters shown
-- as U+FFFD so the tables stay readable.
create or replace macro quoted(t) as
    regexp_replace(left(t, 200), '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]', '�', 'g');

-- One quarantine entry: its reason when `is_bad`, else NULL (the model's column name
-- says what is done about it).
create or replace macro problem(is_bad, reason) as case when is_bad then reason end;

-- A row's `reasons` (the JSON text ingest.stage folds a model's reasons into, NULL when it
-- has none) with one more: what duplicate_ids.sql and unknown_members.sql set.
create or replace macro with_reason(reasons, name, reason) as
    json_merge_patch(coalesce(reasons, '{}'), json_object(name::varchar, reason::varchar));

-- A screened value: blank when `hostile` gave a reason (the reason is recorded instead).
create or replace macro screened(t, why) as case when why is null then t else '' end;

-- The check of one parsed value: a blank required value or text that is not a value of
-- the column's kind; in a required column the row is quarantined, elsewhere the value is
-- dropped and the row kept.
create or replace macro checked(parsed, present, required, label, why) as case
    when required and not present then label || ': required value is blank'
    when present and parsed is null then label || ': ' || why
end;
