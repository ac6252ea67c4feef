//! Expiry values from the token endpoint: epoch milliseconds (the platform's samples), epoch
//! seconds or RFC 6749 relative seconds, told apart by magnitude.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

/// Values at or above this are epoch milliseconds (as seconds it would be the year 5138).
const EPOCH_MS_FROM: i64 = 100_000_000_000;
/// Values at or above this (and below [`EPOCH_MS_FROM`]) are epoch seconds (2001-09-09 or
/// later); anything smaller is a duration in seconds (under ~31 years).
const EPOCH_S_FROM: i64 = 1_000_000_000;

/// How an expiry value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryForm {
    /// Absolute, milliseconds since the Unix epoch (`1684166156606`).
    EpochMillis,
    /// Absolute, seconds since the Unix epoch (`1684166156`).
    EpochSeconds,
    /// Relative: seconds from now (RFC 6749 `expires_in`, `28800`).
    RelativeSeconds,
}

impl ExpiryForm {
    /// Classifies a non-negative value by its magnitude.
    pub fn of(value: i64) -> Self {
        if value >= EPOCH_MS_FROM {
            Self::EpochMillis
        } else if value >= EPOCH_S_FROM {
            Self::EpochSeconds
        } else {
            Self::RelativeSeconds
        }
    }
}

/// The absolute instant an expiry value names, relative values counted from `now`.
///
/// Returns `None` for a negative or out-of-range value.
///
/// # Example
/// ```
/// use atombot::oauth::absolute_expiry;
/// use chrono::{TimeZone, Utc};
///
/// let now = Utc.timestamp_opt(1_684_137_356, 0).unwrap();
/// let ms = absolute_expiry(1_684_166_156_606, now).unwrap();
/// let s = absolute_expiry(1_684_166_156, now).unwrap();
/// let rel = absolute_expiry(28_800, now).unwrap();
/// assert_eq!(s, rel);
/// assert!((ms - s).num_milliseconds() < 1000);
/// ```
pub fn absolute_expiry(value: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if value < 0 {
        return None;
    }
    match ExpiryForm::of(value) {
        ExpiryForm::EpochMillis => Utc.timestamp_millis_opt(value).single(),
        ExpiryForm::EpochSeconds => Utc.timestamp_opt(value, 0).single(),
        ExpiryForm::RelativeSeconds => now.checked_add_signed(chrono::Duration::seconds(value)),
    }
}

/// Reads an expiry field that may be a JSON integer, float or numeric string.
pub(crate) fn from_json(value: &Value, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let raw = match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    absolute_expiry(raw, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn three_forms_name_the_same_instant() {
        let later = 1_700_028_800_i64;
        let a = absolute_expiry(later * 1000 + 250, now()).unwrap();
        let b = absolute_expiry(later, now()).unwrap();
        let c = absolute_expiry(28_800, now()).unwrap();
        assert_eq!(b, c);
        assert!((a - b).num_milliseconds().abs() < 1000);
    }

    #[test]
    fn magnitudes() {
        assert_eq!(ExpiryForm::of(0), ExpiryForm::RelativeSeconds);
        assert_eq!(ExpiryForm::of(7_776_000), ExpiryForm::RelativeSeconds);
        assert_eq!(ExpiryForm::of(1_684_166_156), ExpiryForm::EpochSeconds);
        assert_eq!(ExpiryForm::of(1_684_166_156_606), ExpiryForm::EpochMillis);
    }

    #[test]
    fn json_shapes_and_bad_values() {
        let n = now();
        assert!(from_json(&serde_json::json!(28800), n).is_some());
        assert!(from_json(&serde_json::json!("28800"), n).is_some());
        assert!(from_json(&serde_json::json!(28800.0), n).is_some());
        assert!(from_json(&serde_json::json!(-5), n).is_none());
        assert!(from_json(&serde_json::json!(i64::MAX), n).is_none());
        assert!(from_json(&serde_json::json!("soon"), n).is_none());
        assert!(from_json(&serde_json::json!(null), n).is_none());
    }
}
