//! `Timestamp` columns read without chrono's format-string parser on SQLite.
//!
//! SQLite keeps a timestamp as the text diesel writes (`YYYY-MM-DD HH:MM:SS.ffffff`), and
//! diesel reads it back by trying chrono format strings, each re-read per value: on the
//! 50-row list page that was 7 % of the server's CPU for two timestamps a row. Row fields
//! marked `#[diesel(deserialize_as = StoredTime)]` read that exact shape directly and hand
//! anything else (other spellings, Julian days, leap seconds) to diesel's parser.
//! PostgreSQL's binary timestamps go to diesel unchanged.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

/// A `Timestamp` column's value, read into the row's `NaiveDateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct StoredTime(pub NaiveDateTime);

impl From<StoredTime> for NaiveDateTime {
    fn from(time: StoredTime) -> Self {
        time.0
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if let Some(time) = parse_written(value.read_text()) {
            return Ok(StoredTime(time));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(StoredTime)
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(StoredTime)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 fraction digits (diesel's `%F %T%.f`);
/// `None` for anything else.
fn parse_written(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            // `fraction.len()` is 1..=9, so the scale fits.
            digits(20..b.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)?;
    // Seconds 60 (a leap second) give None here and go to diesel's parser.
    let time =
        NaiveTime::from_hms_nano_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What diesel's SQLite reader makes of the text (its first format is the one it writes).
    fn chrono_reads(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    proptest! {
        #[test]
        fn reads_what_diesel_writes_as_chrono_does(
            seconds in 0i64..253_402_300_799, // 1970 … 9999-12-31 23:59:59
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000, (0u32..1_000_000).prop_map(|us| us * 1000)],
        ) {
            let time = chrono::DateTime::from_timestamp(seconds, nanos).unwrap().naive_utc();
            // diesel's ToSql<Timestamp, Sqlite> format.
            let written = time.format("%F %T%.f").to_string();
            prop_assert_eq!(parse_written(&written), Some(time));
            prop_assert_eq!(parse_written(&written), chrono_reads(&written));
        }

        /// Near misses (one character of a written timestamp changed, or the text cut
        /// short) are either read as chrono reads them or left to diesel.
        #[test]
        fn never_reads_what_chrono_would_not(
            seconds in 0i64..253_402_300_799,
            at in 0usize..26,
            with in prop::sample::select(vec!['0', '9', ':', '-', '.', ' ', 'T', 'Z', '+']),
            cut in 0usize..27,
        ) {
            let time = chrono::DateTime::from_timestamp(seconds, 123_456_000).unwrap().naive_utc();
            let written = time.format("%F %T%.f").to_string();
            let mut text: Vec<char> = written.chars().collect();
            if let Some(c) = text.get_mut(at) {
                *c = with;
            }
            let text: String = text.into_iter().take(cut).collect();
            if let Some(read) = parse_written(&text) {
                prop_assert_eq!(Some(read), chrono_reads(&text));
            }
        }
    }

    #[test]
    fn other_spellings_are_left_to_diesel() {
        for text in [
            "2026-11-27T18:24:56",
            "2026-11-27 18:24",
            "2026-11-27 18:24:56Z",
            "2026-11-27 18:24:56.1234567891",
            "2026-11-27 23:59:60",
            "2026-02-30 10:00:00",
            "2460000.5",
            "",
        ] {
            assert_eq!(parse_written(text), None, "{text}");
        }
        assert_eq!(
            parse_written("2026-11-27 18:24:56.5"),
            chrono_reads("2026-11-27 18:24:56.5")
        );
    }
}
