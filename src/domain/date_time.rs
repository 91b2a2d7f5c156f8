//! `Edm.DateTimeOffset` with the 100-nanosecond precision of .NET ticks.
//!
//! # Format
//!
//! ```text
//! date-time = YYYY "-" MM "-" DD "T" hh ":" mm ":" ss [ "." 1*7DIGIT ] offset
//! offset    = "Z" / ( "+" / "-" ) hh ":" mm
//! ```
//!
//! A literal without an offset is rejected, as Graph rejects it. Values are
//! kept as an instant (ticks since the Unix epoch, UTC), so comparisons
//! compare instants whatever offset a literal was written with, and they are
//! written back in UTC with `Z` and trailing fractional zeros trimmed, as
//! Intune writes them.

use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const TICKS_PER_SECOND: i64 = 10_000_000;

/// An instant with 100 ns precision, between years 1 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTimeOffset {
    ticks: i64,
}

/// Why a literal is not an `Edm.DateTimeOffset`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateTimeError {
    #[error("it has no time-zone offset (add 'Z' or an offset such as '+02:00')")]
    MissingOffset,
    #[error("it has more than 7 fractional digits")]
    TooPrecise,
    #[error("it is not of the form YYYY-MM-DDThh:mm:ss[.fffffff](Z|+hh:mm|-hh:mm)")]
    Malformed,
    #[error("it names a date or time that does not exist")]
    OutOfRange,
}

impl DateTimeOffset {
    /// Parses an RFC 3339 literal with an offset and up to 7 fractional digits.
    pub fn parse(text: &str) -> Result<Self, DateTimeError> {
        let mut cursor = Cursor {
            bytes: text.as_bytes(),
            at: 0,
        };

        let year = cursor.digits(4)?;
        cursor.expect(b'-')?;
        let month = cursor.digits(2)?;
        cursor.expect(b'-')?;
        let day = cursor.digits(2)?;
        cursor.expect_either(b'T', b't')?;
        let hour = cursor.digits(2)?;
        cursor.expect(b':')?;
        let minute = cursor.digits(2)?;
        cursor.expect(b':')?;
        let second = cursor.digits(2)?;
        let fraction_ticks = cursor.fraction()?;
        let offset_seconds = cursor.offset()?;
        if !cursor.at_end() {
            return Err(DateTimeError::Malformed);
        }

        let date = Month::try_from(month as u8)
            .ok()
            .and_then(|month| Date::from_calendar_date(year as i32, month, day as u8).ok())
            .filter(|_| year >= 1)
            .ok_or(DateTimeError::OutOfRange)?;
        let time = Time::from_hms(hour as u8, minute as u8, second as u8)
            .map_err(|_| DateTimeError::OutOfRange)?;
        let local_seconds = PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp();
        let utc_seconds = local_seconds - i64::from(offset_seconds);

        Self::from_ticks(utc_seconds * TICKS_PER_SECOND + fraction_ticks)
            .ok_or(DateTimeError::OutOfRange)
    }

    /// Builds an instant from ticks, refusing those outside years 1 to 9999.
    pub fn from_ticks(ticks: i64) -> Option<Self> {
        let value = Self { ticks };
        let year = value.to_offset_date_time()?.year();
        (1..=9999).contains(&year).then_some(value)
    }

    /// The current time, truncated to 100 ns.
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self {
            ticks: (nanos / 100) as i64,
        }
    }

    /// Ticks (100 ns) since 1970-01-01T00:00:00Z; negative before it.
    pub fn ticks(self) -> i64 {
        self.ticks
    }

    fn to_offset_date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.ticks) * 100).ok()
    }
}

impl fmt::Display for DateTimeOffset {
    /// Writes UTC with `Z`, fractional digits only as far as they matter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utc = self
            .to_offset_date_time()
            .ok_or(fmt::Error)?
            .to_offset(UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            utc.year(),
            utc.month() as u8,
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second()
        )?;

        let fraction = self.ticks.rem_euclid(TICKS_PER_SECOND);
        if fraction != 0 {
            let digits = format!("{fraction:07}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

/// A byte cursor over a date-time literal.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn digits(&mut self, count: usize) -> Result<u32, DateTimeError> {
        let mut value = 0;
        for _ in 0..count {
            let digit = self
                .peek()
                .filter(u8::is_ascii_digit)
                .ok_or(DateTimeError::Malformed)?;
            value = value * 10 + u32::from(digit - b'0');
            self.at += 1;
        }
        Ok(value)
    }

    fn expect(&mut self, byte: u8) -> Result<(), DateTimeError> {
        self.expect_either(byte, byte)
    }

    fn expect_either(&mut self, a: u8, b: u8) -> Result<(), DateTimeError> {
        match self.peek() {
            Some(found) if found == a || found == b => {
                self.at += 1;
                Ok(())
            }
            _ => Err(DateTimeError::Malformed),
        }
    }

    /// Reads `.fffffff` if present, as ticks.
    fn fraction(&mut self) -> Result<i64, DateTimeError> {
        if self.peek() != Some(b'.') {
            return Ok(0);
        }
        self.at += 1;

        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty() {
            return Err(DateTimeError::Malformed);
        }
        if digits.len() > 7 {
            return Err(DateTimeError::TooPrecise);
        }

        let mut ticks = 0i64;
        for position in 0..7 {
            let digit = digits.get(position).map_or(0, |d| i64::from(d - b'0'));
            ticks = ticks * 10 + digit;
        }
        Ok(ticks)
    }

    /// Reads `Z` or `±hh:mm`, as seconds east of UTC.
    fn offset(&mut self) -> Result<i32, DateTimeError> {
        let sign = match self.peek() {
            Some(b'Z' | b'z') => {
                self.at += 1;
                return Ok(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            None => return Err(DateTimeError::MissingOffset),
            Some(_) => return Err(DateTimeError::Malformed),
        };
        self.at += 1;

        let hours = self.digits(2)?;
        self.expect(b':')?;
        let minutes = self.digits(2)?;
        // Edm.DateTimeOffset, like .NET, allows offsets up to 14 hours.
        if minutes > 59 || hours * 60 + minutes > 14 * 60 {
            return Err(DateTimeError::OutOfRange);
        }
        Ok(sign * (hours * 3600 + minutes * 60) as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        DateTimeOffset::parse(text).unwrap().to_string()
    }

    #[test]
    fn writes_utc_with_trimmed_ticks() {
        assert_eq!(
            round_trip("2017-01-01T00:03:07.1589002-08:00"),
            "2017-01-01T08:03:07.1589002Z"
        );
        assert_eq!(
            round_trip("2024-05-15T14:13:19.3769410Z"),
            "2024-05-15T14:13:19.376941Z"
        );
        assert_eq!(
            round_trip("2026-09-30T22:58:28.388+09:00"),
            "2026-09-30T13:58:28.388Z"
        );
        assert_eq!(round_trip("2026-10-07T07:35:21Z"), "2026-10-07T07:35:21Z");
        assert_eq!(round_trip("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn accepts_offsets_up_to_fourteen_hours() {
        assert!(DateTimeOffset::parse("2024-01-19T13:38:22+14:00").is_ok());
        assert!(DateTimeOffset::parse("2024-01-19T13:38:22-12:00").is_ok());
    }

    #[test]
    fn compares_instants_not_text() {
        let east = DateTimeOffset::parse("2026-01-01T09:00:00+09:00").unwrap();
        let utc = DateTimeOffset::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(east, utc);
    }

    #[test]
    fn rejects_what_graph_rejects() {
        use DateTimeError::*;
        let cases = [
            ("2024-01-19T13:38:22.169688", MissingOffset),
            ("2024-01-19T13:38:22.12345678Z", TooPrecise),
            ("2024-02-30T00:00:00Z", OutOfRange),
            ("2024-01-19 13:38:22Z", Malformed),
            ("2024-01-19T13:38:22.Z", Malformed),
            ("2024-01-19T24:00:00Z", OutOfRange),
            ("0000-01-01T00:00:00Z", OutOfRange),
            ("2024-01-19T13:38:22+0100", Malformed),
            ("2024-01-19T13:38:22+14:01", OutOfRange),
            ("2024-01-19T13:38:22-23:59", OutOfRange),
            ("2024-01-19", Malformed),
            ("", Malformed),
        ];
        for (text, error) in cases {
            assert_eq!(DateTimeOffset::parse(text), Err(error), "{text}");
        }
    }

    #[test]
    fn offsets_can_push_past_the_last_year() {
        assert!(DateTimeOffset::parse("9999-12-31T23:59:59.9999999Z").is_ok());
        assert_eq!(
            DateTimeOffset::parse("9999-12-31T23:00:00-02:00"),
            Err(DateTimeError::OutOfRange)
        );
    }
}
