//! Lenient field decoders for what the platform really sends: numbers as strings, booleans
//! as `0`/`1`, timestamps in several forms, and `null` wherever a value may be missing.
//!
//! Each decoder accepts every form the platform is known to use and fails (naming the
//! field's JSON path through `serde_path_to_error`) on anything else.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::Timestamp;

/// A count or per-repository number (`number`, `iid`) given as a number or a numeric string;
/// `null`, `""` and negative numbers become 0.
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct NumberVisitor;

    impl<'de> Visitor<'de> for NumberVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or a numeric string")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            Ok(u64::try_from(v).unwrap_or(0))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
                Ok(v as u64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(0);
            }
            v.parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
            Ok(0)
        }
        fn visit_none<E: de::Error>(self) -> Result<u64, E> {
            Ok(0)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
            d.deserialize_any(self)
        }
    }

    d.deserialize_any(NumberVisitor)
}

/// A string; `null` becomes empty, numbers and booleans their text.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// An optional string; numbers and booleans become their text.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct StringVisitor;

    impl<'de> Visitor<'de> for StringVisitor {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
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

    d.deserialize_any(StringVisitor)
}

/// A boolean given as `true`/`false`, `1`/`0` or those as strings; `null` and `""` are false.
pub(crate) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

/// An optional boolean in any of the forms [`bool`] accepts.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct BoolVisitor;

    impl<'de> Visitor<'de> for BoolVisitor {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean (true/false, 1/0, or those as strings)")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            match v {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
            }
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v == 0.0 || v == 1.0 {
                Ok(Some(v == 1.0))
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
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

    d.deserialize_any(BoolVisitor)
}

/// An optional [`Timestamp`] in any form it parses (ISO 8601, `YYYY-MM-DD HH:MM:SS`, epoch
/// seconds or milliseconds); `null` and `""` are `None`.
pub(crate) fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Timestamp::deserialize_opt(d)
}

/// Any `T`, with `null` as `T::default()`.
pub(crate) fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Default, Debug)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "super::number")]
        n: u64,
        #[serde(deserialize_with = "super::string")]
        s: String,
        #[serde(deserialize_with = "super::bool")]
        b: bool,
        #[serde(deserialize_with = "super::or_default")]
        v: Vec<u8>,
        #[serde(deserialize_with = "super::time")]
        t: Option<super::Timestamp>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn lenient() {
        assert_eq!(t(r#"{"n": 7}"#).unwrap().n, 7);
        assert_eq!(t(r#"{"n": "7"}"#).unwrap().n, 7);
        assert_eq!(t(r#"{"n": null}"#).unwrap().n, 0);
        assert_eq!(t(r#"{"n": -9999}"#).unwrap().n, 0);
        assert!(t(r#"{"n": "abc"}"#).is_err());
        assert_eq!(t(r#"{"s": null, "v": null}"#).unwrap().s, "");
        assert_eq!(t(r#"{"s": 12}"#).unwrap().s, "12");
        assert_eq!(t(r#"{}"#).unwrap().v, Vec::<u8>::new());
    }

    #[test]
    fn booleans_in_every_form() {
        for (json, want) in [
            ("true", true),
            ("false", false),
            ("1", true),
            ("0", false),
            ("\"true\"", true),
            ("\"0\"", false),
            ("null", false),
        ] {
            assert_eq!(t(&format!(r#"{{"b": {json}}}"#)).unwrap().b, want, "{json}");
        }
        assert!(t(r#"{"b": 2}"#).is_err());
        assert!(t(r#"{"b": "yes"}"#).is_err());
    }

    #[test]
    fn timestamps_in_every_form() {
        for json in [
            "\"2023-02-02 09:31:24\"",
            "\"2023-02-02T01:31:24Z\"",
            "1675301484",
            "1675301484000",
            "\"1675301484\"",
        ] {
            let got = t(&format!(r#"{{"t": {json}}}"#)).unwrap().t.unwrap();
            assert_eq!(got.to_utc().timestamp(), 1_675_301_484, "{json}");
        }
        assert!(t(r#"{"t": ""}"#).unwrap().t.is_none());
        assert!(t(r#"{"t": null}"#).unwrap().t.is_none());
        assert!(t(r#"{"t": "yesterday"}"#).is_err());
    }
}
