//! Timestamps as the platform writes them.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with the offset the platform gave it.
///
/// Parses RFC 3339 / ISO 8601 (`2023-05-07T04:02:40.758+08:00`) and the platform's
/// `YYYY-MM-DD HH:MM:SS` form, which carries no offset and is read as China Standard Time
/// (`+08:00`), the zone of every offset the platform's samples show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Timestamp {
    /// Parses either accepted form.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp(t));
        }
        let cst = FixedOffset::east_opt(8 * 3600)?;
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .and_then(|naive| cst.from_local_datetime(&naive).single())
            .map(Timestamp)
    }

    /// The instant in UTC.
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.fixed_offset())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a timestamp")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offset_with_milliseconds() {
        let t = Timestamp::parse("2023-05-07T04:02:40.758+08:00").unwrap();
        assert_eq!(t.to_utc().to_rfc3339(), "2023-05-06T20:02:40.758+00:00");
    }

    #[test]
    fn parses_platform_plain_form_as_cst() {
        let t = Timestamp::parse("2023-02-02 09:31:24").unwrap();
        assert_eq!(t.to_utc().to_rfc3339(), "2023-02-02T01:31:24+00:00");
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
