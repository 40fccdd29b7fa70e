//! Dates as feeds actually write them: RFC 3339 and RFC 822 first, then a forgiving reader for
//! everything else seen in the wild (long or non-English month names, wrong weekdays, missing
//! seconds or time zones, named zones, two-digit years, `2024-01-05 10:00`, asctime order).
//!
//! A date without a zone is taken as UTC: a fixed, predictable choice beats a guess.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parses a feed date to UTC, or `None` when nothing date-like can be read.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 100 {
        return None;
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(text) {
        return Some(date.with_timezone(&Utc));
    }
    if starts_with_iso_date(text) {
        parse_iso_like(text)
    } else {
        parse_words(text)
    }
}

fn starts_with_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 7 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}

/// `YYYY-MM-DD[(T| )hh:mm[:ss[.frac]]][zone]`, also `YYYY-MM` alone.
fn parse_iso_like(text: &str) -> Option<DateTime<Utc>> {
    let date_length = text
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(text.len());
    let mut parts = text[..date_length].split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next().map_or(Some(1), |day| day.parse().ok())?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let rest = text[date_length..].trim_start_matches(['T', 't', ' ']);
    let time_length = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(rest.len());
    let time = parse_time(&rest[..time_length]).unwrap_or(NaiveTime::MIN);
    let zone = rest[time_length..].trim();
    let offset = if zone.is_empty() {
        0
    } else {
        zone_offset_seconds(zone)?
    };
    to_utc(date.and_time(time), offset)
}

/// RFC 822 and its relatives: tokens in any order, recognised by their shape.
fn parse_words(text: &str) -> Option<DateTime<Utc>> {
    let mut fields = DateFields::default();
    for token in text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '/')
        .filter(|token| !token.is_empty())
    {
        fields.absorb(token);
    }
    fields.finish()
}

#[derive(Default)]
struct DateFields {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<NaiveTime>,
    offset_seconds: Option<i32>,
}

impl DateFields {
    fn absorb(&mut self, token: &str) {
        let token = token.trim_end_matches('.');
        if self.absorb_dotted_date(token) {
            return;
        }
        if token.contains(':') && self.time.is_none() && !token.starts_with(['+', '-']) {
            self.absorb_time_with_zone(token);
        } else if let Some(month) = month_number(token) {
            // The last month name wins: `mar.` opening a French date is Tuesday, not March.
            self.month = Some(month);
        } else if token.bytes().all(|byte| byte.is_ascii_digit()) {
            self.absorb_number(token);
        } else if self.time.is_some() || self.year.is_some() {
            let offset = zone_offset_seconds(token);
            self.offset_seconds = self.offset_seconds.or(offset);
        }
    }

    /// `22.11.2022` (day.month.year, as written across most of Europe).
    fn absorb_dotted_date(&mut self, token: &str) -> bool {
        let parts: Vec<&str> = token.split('.').collect();
        let [day, month, year] = parts[..] else {
            return false;
        };
        let numbers = (
            day.parse::<u32>(),
            month.parse::<u32>(),
            year.parse::<i32>(),
        );
        let (Ok(day), Ok(month), Ok(year)) = numbers else {
            return false;
        };
        if year < 1000 || self.year.is_some() {
            return false;
        }
        (self.day, self.month, self.year) = (Some(day), Some(month), Some(year));
        true
    }

    /// `08:39:16`, `8:39`, or `08:39:16+0100` / `08:39:16Z` glued together.
    fn absorb_time_with_zone(&mut self, token: &str) {
        // The zone starts at a sign or letter after the first character (char indices: the
        // token may start with any character, multi-byte ones included).
        let zone_start = token
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-' || c.is_ascii_alphabetic())
            .map(|(index, _)| index);
        let (time, zone) = token.split_at(zone_start.unwrap_or(token.len()));
        self.time = parse_time(time);
        if !zone.is_empty() {
            self.offset_seconds = zone_offset_seconds(zone);
        }
    }

    fn absorb_number(&mut self, token: &str) {
        let Ok(number) = token.parse::<i32>() else {
            return;
        };
        if token.len() == 4 && self.year.is_none() {
            self.year = Some(number);
        } else if token.len() <= 2 && self.day.is_none() && (1..=31).contains(&number) {
            self.day = Some(number as u32);
        } else if token.len() == 2 && self.year.is_none() {
            self.year = Some(if number < 50 {
                2000 + number
            } else {
                1900 + number
            });
        } else if token.len() == 4 && self.time.is_none() && self.year.is_some() {
            // `+0000` written without its sign after the year is rare; a bare `1200` is a time.
            self.time = NaiveTime::from_hms_opt((number / 100) as u32, (number % 100) as u32, 0);
        }
    }

    fn finish(self) -> Option<DateTime<Utc>> {
        let date = NaiveDate::from_ymd_opt(self.year?, self.month?, self.day.unwrap_or(1))?;
        let time = self.time.unwrap_or(NaiveTime::MIN);
        to_utc(date.and_time(time), self.offset_seconds.unwrap_or(0))
    }
}

fn to_utc(local: NaiveDateTime, offset_seconds: i32) -> Option<DateTime<Utc>> {
    if !(1900..=2200).contains(&chrono::Datelike::year(&local)) {
        return None;
    }
    let offset = FixedOffset::east_opt(offset_seconds)?;
    offset
        .from_local_datetime(&local)
        .single()
        .map(|date| date.with_timezone(&Utc))
}

/// `hh:mm[:ss[.frac]]`; hour 24 (seen in the wild) is read as midnight.
fn parse_time(text: &str) -> Option<NaiveTime> {
    let mut parts = text.split(':');
    let hour: u32 = parts.next()?.trim().parse().ok()?;
    let minute: u32 = parts.next()?.trim().parse().ok()?;
    let second_text = parts.next().unwrap_or("0");
    let whole_seconds = second_text.split(['.', ',']).next()?;
    let second: u32 = whole_seconds.parse().ok()?;
    NaiveTime::from_hms_opt(hour % 24, minute, second.min(59))
}

/// `Z`, `+01:00`, `+0100`, `-05`, `GMT+2`, or a zone abbreviation.
fn zone_offset_seconds(zone: &str) -> Option<i32> {
    let zone = zone.trim().trim_matches(|c| c == '(' || c == ')');
    if let Some(signed) = zone.strip_prefix(['+', '-']) {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        return numeric_offset(signed).map(|seconds| sign * seconds);
    }
    for prefix in ["GMT", "UTC", "UT"] {
        if let Some(rest) = zone.strip_prefix(prefix)
            && rest.starts_with(['+', '-'])
        {
            return zone_offset_seconds(rest);
        }
    }
    named_zone_hours(zone).map(|hours| (hours * 3600.0) as i32)
}

fn numeric_offset(digits: &str) -> Option<i32> {
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (digits[..1].parse().ok()?, digits[1..].parse().ok()?),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    (hours <= 14 && minutes < 60).then_some(hours * 3600 + minutes * 60)
}

fn named_zone_hours(zone: &str) -> Option<f64> {
    let hours = match zone.to_ascii_uppercase().as_str() {
        "Z" | "GMT" | "UT" | "UTC" | "WET" => 0.0,
        "BST" | "CET" | "WEST" | "MEZ" => 1.0,
        "CEST" | "EET" | "MESZ" | "SAST" => 2.0,
        "EEST" | "MSK" => 3.0,
        "IST" => 5.5,
        "SGT" | "HKT" | "AWST" => 8.0,
        "JST" | "KST" => 9.0,
        "AEST" => 10.0,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        "NZDT" => 13.0,
        "EDT" => -4.0,
        "EST" | "CDT" => -5.0,
        "CST" | "MDT" => -6.0,
        "MST" | "PDT" => -7.0,
        "PST" | "AKDT" => -8.0,
        "AKST" => -9.0,
        "HST" => -10.0,
        _ => return None,
    };
    Some(hours)
}

/// Month names and abbreviations in English, French, German, Spanish, Italian, Portuguese
/// and Dutch, matched on their first letters.
fn month_number(token: &str) -> Option<u32> {
    let lowered = token.to_lowercase();
    if lowered.chars().count() < 3 || !lowered.chars().all(char::is_alphabetic) {
        return None;
    }
    const MONTHS: [&[&str]; 12] = [
        &["jan", "janv", "ene", "gen"],
        &["feb", "fév", "fev", "févr", "fevr", "fab"],
        &["mar", "mär", "mrt", "març"],
        &["apr", "avr", "abr"],
        &["may", "mai", "mag", "mei"],
        &["jun", "juin", "giu"],
        &["jul", "juil", "lug"],
        &["aug", "aoû", "aou", "ago"],
        &["sep", "set"],
        &["oct", "okt", "ott", "out"],
        &["nov"],
        &["dec", "déc", "dez", "dic"],
    ];
    let prefix: String = lowered.chars().take(4).collect();
    let short: String = lowered.chars().take(3).collect();
    MONTHS
        .iter()
        .position(|names| names.contains(&prefix.as_str()) || names.contains(&short.as_str()))
        .map(|index| index as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> String {
        parse_date(text)
            .map(|date| date.to_rfc3339())
            .unwrap_or_else(|| "none".to_string())
    }

    /// A token holding ':' may start with a multi-byte character (found by fuzzing: this
    /// sliced inside it and panicked). The date around it is still read.
    #[test]
    fn time_tokens_starting_with_multibyte_characters() {
        assert_eq!(iso("5 Jan 2024 é10:00"), "2024-01-05T00:00:00+00:00");
        assert_eq!(iso("5 Jan 2024 10:00é"), "2024-01-05T00:00:00+00:00");
        assert_eq!(iso("ü:"), "none");
    }

    #[test]
    fn rfc3339_and_variants() {
        assert_eq!(iso("2003-12-13T18:30:02Z"), "2003-12-13T18:30:02+00:00");
        assert_eq!(
            iso("2003-12-13T08:29:29-04:00"),
            "2003-12-13T12:29:29+00:00"
        );
        assert_eq!(
            iso("2003-12-13T08:29:29.25+0100"),
            "2003-12-13T07:29:29+00:00"
        );
        assert_eq!(iso("2024-01-05 10:00"), "2024-01-05T10:00:00+00:00");
        assert_eq!(iso("2024-01-05T10:00:00"), "2024-01-05T10:00:00+00:00");
        assert_eq!(iso("2024-01-05"), "2024-01-05T00:00:00+00:00");
        assert_eq!(iso("2024-01"), "2024-01-01T00:00:00+00:00");
        assert_eq!(iso("2024-01-05T10:00:00 EST"), "2024-01-05T15:00:00+00:00");
    }

    #[test]
    fn rfc822_and_variants() {
        assert_eq!(
            iso("Tue, 10 Jun 2003 04:00:00 GMT"),
            "2003-06-10T04:00:00+00:00"
        );
        assert_eq!(
            iso("Tue, 10 Jun 2003 04:00:00 +0200"),
            "2003-06-10T02:00:00+00:00"
        );
        assert_eq!(
            iso("Tue, 10 Jun 2003 04:00 EDT"),
            "2003-06-10T08:00:00+00:00"
        );
        assert_eq!(
            iso("Thurs, 13 Jul 2011 07:38:00 GMT"),
            "2011-07-13T07:38:00+00:00"
        );
        assert_eq!(
            iso("Wednesday, 10 June 2003 04:00:00 UTC"),
            "2003-06-10T04:00:00+00:00"
        );
        assert_eq!(
            iso("Mon, 26 Jan 2015 8:39:16 -0500"),
            "2015-01-26T13:39:16+00:00"
        );
        assert_eq!(iso("10 Jun 03 04:00:00 PST"), "2003-06-10T12:00:00+00:00");
        assert_eq!(
            iso("Sat, 25 Aug 2012 14:00:00"),
            "2012-08-25T14:00:00+00:00"
        );
        assert_eq!(
            iso("Jun 10 2003 04:00:00 +0000"),
            "2003-06-10T04:00:00+00:00"
        );
        assert_eq!(
            iso("Sun Jan 26 08:39:16 CET 2015"),
            "2015-01-26T07:39:16+00:00"
        );
        assert_eq!(
            iso("Tue, 10 Jun 2003 24:00:00 GMT"),
            "2003-06-10T00:00:00+00:00"
        );
        assert_eq!(
            iso("Tue, 10 Jun 2003 04:00:00 GMT+2"),
            "2003-06-10T02:00:00+00:00"
        );
        assert_eq!(iso("22.11.2022 12:16:00"), "2022-11-22T12:16:00+00:00");
    }

    #[test]
    fn non_english_months() {
        assert_eq!(
            iso("lun., 12 janv. 2015 10:00:00 +0100"),
            "2015-01-12T09:00:00+00:00"
        );
        assert_eq!(
            iso("Mi, 03 Dez 2014 12:00:00 +0100"),
            "2014-12-03T11:00:00+00:00"
        );
        assert_eq!(iso("12 août 2020 08:00"), "2020-08-12T08:00:00+00:00");
        assert_eq!(
            iso("mar., 12 janv. 2015 10:00:00 GMT"),
            "2015-01-12T10:00:00+00:00"
        );
    }

    #[test]
    fn nonsense_is_none() {
        assert_eq!(iso(""), "none");
        assert_eq!(iso("yesterday"), "none");
        assert_eq!(iso("2024-13-45"), "none");
        assert_eq!(iso("Tue, 31 Feb 2003 04:00:00 GMT"), "none");
        assert_eq!(iso(&"9".repeat(500)), "none");
    }
}
