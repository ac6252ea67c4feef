//! Timestamps as the platform writes them.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with the offset the platform gave it.
///
/// Parses RFC 3339 / ISO 8601 (`2023-05-07T04:02:40.758+08:00`), the platform's
/// `YYYY-MM-DD HH:MM:SS` form (optionally followed by `UTC` or an offset such as `+0800`),
/// and Unix epochs in seconds or milliseconds (as numbers or numeric strings). The plain
/// form carries no offset and is read as China Standard Time (`+08:00`), the zone of every
/// offset the platform's samples show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

/// Epoch values at or above this are milliseconds (1e11 seconds is the year 5138).
const MILLIS_FROM: i64 = 100_000_000_000;

impl Timestamp {
    /// Parses any accepted text form; `None` when `text` is none of them.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp(t));
        }
        if let Ok(epoch) = text.parse::<i64>() {
            return Self::from_epoch(epoch);
        }
        for f in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
            if let Ok(t) = DateTime::parse_from_str(text, f) {
                return Some(Timestamp(t));
            }
        }
        if let Some(utc) = text.strip_suffix(" UTC") {
            return NaiveDateTime::parse_from_str(utc.trim(), "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|naive| Timestamp(naive.and_utc().fixed_offset()));
        }
        let cst = FixedOffset::east_opt(8 * 3600)?;
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .and_then(|naive| cst.from_local_datetime(&naive).single())
            .map(Timestamp)
    }

    /// A Unix epoch in seconds, or in milliseconds when it is at least 10^11.
    pub fn from_epoch(epoch: i64) -> Option<Self> {
        let t = if epoch.abs() >= MILLIS_FROM {
            DateTime::from_timestamp_millis(epoch)
        } else {
            DateTime::from_timestamp(epoch, 0)
        };
        t.map(Timestamp::from)
    }

    /// The instant in UTC.
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// Decodes an optional timestamp: `null` and `""` are `None`, anything unparseable an
    /// error.
    pub(crate) fn deserialize_opt<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Option<Timestamp>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp (ISO 8601, `YYYY-MM-DD HH:MM:SS` or a Unix epoch)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        Timestamp::parse(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Timestamp::from_epoch(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .ok()
            .and_then(Timestamp::from_epoch)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
            self.visit_i64(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
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
        Timestamp::deserialize_opt(d)?
            .ok_or_else(|| de::Error::custom("expected a timestamp, found nothing"))
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

    #[test]
    fn parses_gitlab_forms_and_epochs() {
        let want = "2023-02-02T01:31:24+00:00";
        for text in [
            "2023-02-02 01:31:24 UTC",
            "2023-02-02 09:31:24 +0800",
            "1675301484",
            "1675301484000",
        ] {
            let t = Timestamp::parse(text).unwrap();
            assert_eq!(t.to_utc().to_rfc3339(), want, "{text}");
        }
    }
}
