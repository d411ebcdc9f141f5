//! UTC times in the three shapes Courier writes: SigV4's `X-Amz-Date`, a
//! POST policy's `expiration`, and RFC 3339 on the wire. Written digit by
//! digit: `format!` and `time`'s formatter were a visible part of a grant.

use std::fmt::Write as _;

use time::{OffsetDateTime, UtcOffset};

/// `20151229T000000Z`
pub fn amz_date(at: OffsetDateTime) -> String {
    let mut out = String::with_capacity(16);
    push_amz_date(&mut out, at);
    out
}

/// Appends `20151229T000000Z`.
pub fn push_amz_date(out: &mut String, at: OffsetDateTime) {
    push(out, at, ["", "", "Z"]);
}

/// Appends `2015-12-30T12:00:00.000Z`.
pub fn push_expiration(out: &mut String, at: OffsetDateTime) {
    push(out, at, ["-", ":", ".000Z"]);
}

/// `2015-12-30T12:00:00Z`: RFC 3339 in whole seconds, UTC.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let mut out = String::with_capacity(20);
    push(&mut out, at, ["-", ":", "Z"]);
    out
}

/// Date `T` time, then `end`, with `date`'s and `time`'s separators.
fn push(out: &mut String, at: OffsetDateTime, [date, time, end]: [&str; 3]) {
    let at = Fields::of(at);
    at.push_date(out, date);
    out.push('T');
    at.push_time(out, time);
    out.push_str(end);
}

/// A time's fields in UTC.
struct Fields {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Fields {
    fn of(at: OffsetDateTime) -> Self {
        let at = at.to_offset(UtcOffset::UTC);
        Self {
            year: at.year(),
            month: u8::from(at.month()),
            day: at.day(),
            hour: at.hour(),
            minute: at.minute(),
            second: at.second(),
        }
    }

    fn push_date(&self, out: &mut String, separator: &str) {
        match u16::try_from(self.year) {
            Ok(year) if year <= 9999 => {
                push_two(out, (year / 100) as u8);
                push_two(out, (year % 100) as u8);
            }
            // Outside what S3 reads anyway; written plainly, never panicking.
            _ => {
                let _ = write!(out, "{:04}", self.year);
            }
        }
        out.push_str(separator);
        push_two(out, self.month);
        out.push_str(separator);
        push_two(out, self.day);
    }

    fn push_time(&self, out: &mut String, separator: &str) {
        push_two(out, self.hour);
        out.push_str(separator);
        push_two(out, self.minute);
        out.push_str(separator);
        push_two(out, self.second);
    }
}

/// Appends `n` (below 100) as two digits.
fn push_two(out: &mut String, n: u8) {
    out.push(char::from(b'0' + n / 10 % 10));
    out.push(char::from(b'0' + n % 10));
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    #[test]
    fn each_shape_is_written_as_s3_and_rfc_3339_spell_it() {
        let at = datetime!(2026-11-28 09:05:07.987 UTC);
        assert_eq!(amz_date(at), "20261128T090507Z");
        let mut expiration = String::new();
        push_expiration(&mut expiration, at);
        assert_eq!(expiration, "2026-11-28T09:05:07.000Z");
        assert_eq!(rfc3339(at), "2026-11-28T09:05:07Z");
    }

    #[test]
    fn other_offsets_are_written_in_utc() {
        let at = datetime!(2026-01-01 01:30:00 +02:00);
        assert_eq!(amz_date(at), "20251231T233000Z");
        assert_eq!(rfc3339(at), "2025-12-31T23:30:00Z");
    }

    #[test]
    fn agrees_with_the_time_crate_across_the_years() {
        // Every shape of date: single digits, year boundaries, leap days.
        for at in [
            datetime!(0001-01-01 00:00:00 UTC),
            datetime!(0999-09-09 09:09:09 UTC),
            datetime!(1970-01-01 00:00:00 UTC),
            datetime!(2024-02-29 23:59:59 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
        ] {
            assert_eq!(rfc3339(at), at.format(&Rfc3339).expect("formats"));
        }
    }
}
