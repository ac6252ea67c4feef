//! Lenient field decoders: ids as numbers or strings, nulls as defaults.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// An id given as a number or a numeric string; `null` and negative numbers become 0.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct IdVisitor;

    impl<'de> Visitor<'de> for IdVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id (number or numeric string)")
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

    d.deserialize_any(IdVisitor)
}

/// A string; `null` becomes empty, numbers and booleans their text.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct StringVisitor;

    impl<'de> Visitor<'de> for StringVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
            d.deserialize_any(self)
        }
    }

    d.deserialize_any(StringVisitor)
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
        #[serde(deserialize_with = "super::id")]
        id: u64,
        #[serde(deserialize_with = "super::string")]
        s: String,
        #[serde(deserialize_with = "super::or_default")]
        v: Vec<u8>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn lenient() {
        assert_eq!(t(r#"{"id": 7}"#).unwrap().id, 7);
        assert_eq!(t(r#"{"id": "7"}"#).unwrap().id, 7);
        assert_eq!(t(r#"{"id": null}"#).unwrap().id, 0);
        assert_eq!(t(r#"{"id": -9999}"#).unwrap().id, 0);
        assert!(t(r#"{"id": "abc"}"#).is_err());
        assert_eq!(t(r#"{"s": null, "v": null}"#).unwrap().s, "");
        assert_eq!(t(r#"{"s": 12}"#).unwrap().s, "12");
        assert_eq!(t(r#"{}"#).unwrap().v, Vec::<u8>::new());
    }
}
