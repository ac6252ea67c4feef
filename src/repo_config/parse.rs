//! Text → JSON mapping (YAML or TOML, by extension), and mapping → the author's type, with
//! the file, line, column and field of whatever does not fit.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ConfigFileError;
use super::locate::{Segment, locate};

/// The syntax of a configuration file, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `.yml` / `.yaml`.
    Yaml,
    /// `.toml`.
    Toml,
}

impl Format {
    /// The format of `name`, or `None` for another extension.
    pub(crate) fn of(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "yml" | "yaml" => Some(Self::Yaml),
            "toml" => Some(Self::Toml),
            _ => None,
        }
    }
}

/// Parses `text` (the contents of `file`) as a mapping; an empty document is an empty one.
pub(crate) fn parse(
    format: Format,
    file: &str,
    text: &str,
) -> Result<Map<String, Value>, ConfigFileError> {
    let value = match format {
        Format::Yaml => serde_norway::from_str::<Value>(text).map_err(|e| {
            let position = e.location().map(|l| (l.line(), l.column()));
            ConfigFileError::new(file, yaml_message(&e)).at(position)
        })?,
        Format::Toml => toml::from_str::<Value>(text).map_err(|e| {
            let position = e.span().map(|span| line_column(text, span.start));
            ConfigFileError::new(file, e.message().trim().to_owned()).at(position)
        })?,
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(ConfigFileError::new(
            file,
            format!("the document must be a mapping, not {}", kind(&other)),
        )
        .at(Some((1, 1)))),
    }
}

/// Why a mapping did not decode as the author's type: the field's path and the message.
#[derive(Debug)]
pub(crate) struct TypeError {
    pub(crate) segments: Vec<Segment>,
    /// `labels[0].color`, or `.` for the document itself.
    pub(crate) field: String,
    pub(crate) message: String,
}

impl TypeError {
    /// The error as found in `text`, the contents of `file`.
    pub(crate) fn in_file(self, format: Format, file: &str, text: &str) -> ConfigFileError {
        let mut error =
            ConfigFileError::new(file, self.message).at(locate(format, text, &self.segments));
        error.field = (self.field != ".").then_some(self.field);
        error
    }
}

/// Decodes `value` as `T`, naming the field that does not fit.
pub(crate) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, TypeError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let segments = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                _ => None,
            })
            .collect();
        TypeError {
            segments,
            field: e.path().to_string(),
            message: e.into_inner().to_string(),
        }
    })
}

/// libyaml's message without the position it appends (kept in the fields instead).
fn yaml_message(e: &serde_norway::Error) -> String {
    let message = e.to_string();
    match message.find(" at line ") {
        Some(at) if e.location().is_some() => message[..at].to_owned(),
        _ => message,
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "acme/app:.atomgit/bot.yml";

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(Format::of("bot.yml"), Some(Format::Yaml));
        assert_eq!(Format::of("bot.YAML"), Some(Format::Yaml));
        assert_eq!(Format::of("bot.toml"), Some(Format::Toml));
        assert_eq!(Format::of("bot.json"), None);
        assert_eq!(Format::of("bot"), None);
    }

    #[test]
    fn invalid_yaml_names_its_line_and_column() {
        let text = "greeting: hi\nlabels: [bug\nother: 1\n";
        let e = parse(Format::Yaml, FILE, text).unwrap_err();
        assert_eq!(e.file, FILE);
        assert!(e.line.is_some_and(|l| (2..=4).contains(&l)), "{e:?}");
        assert!(e.column.is_some(), "{e:?}");
        assert!(!e.message.contains(" at line "), "{e:?}");
        assert!(e.to_string().contains(FILE), "{e}");

        let e = parse(Format::Yaml, FILE, "a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
    }

    #[test]
    fn invalid_toml_names_its_line_and_column() {
        let text = "greeting = \"hi\"\nlimit = = 3\n";
        let e = parse(Format::Toml, "acme/app:.atomgit/bot.toml", text).unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
        assert!(e.column.is_some_and(|c| c > 1), "{e:?}");
    }

    #[test]
    fn the_document_must_be_a_mapping() {
        assert!(parse(Format::Yaml, FILE, "").unwrap().is_empty());
        assert!(
            parse(Format::Yaml, FILE, "# only a comment\n")
                .unwrap()
                .is_empty()
        );
        let e = parse(Format::Yaml, FILE, "- a\n- b\n").unwrap_err();
        assert!(e.message.contains("mapping, not a list"), "{e:?}");
    }

    #[test]
    fn a_wrong_type_names_the_field_and_its_line() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Label {
            name: String,
            color: u32,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Conf {
            greeting: String,
            labels: Vec<Label>,
        }
        let text =
            "greeting: hi\nlabels:\n  - name: bug\n    color: 1\n  - name: docs\n    color: blue\n";
        let value = Value::Object(parse(Format::Yaml, FILE, text).unwrap());
        let e = decode::<Conf>(value)
            .unwrap_err()
            .in_file(Format::Yaml, FILE, text);
        assert_eq!(e.field.as_deref(), Some("labels[1].color"), "{e:?}");
        assert_eq!((e.line, e.column), (Some(6), Some(5)), "{e:?}");
        assert!(e.message.contains("invalid type"), "{e:?}");
        let shown = e.to_string();
        assert!(
            shown.contains("line 6") && shown.contains("labels[1].color"),
            "{shown}"
        );

        let text = "greeting = \"hi\"\n\n[[labels]]\nname = \"bug\"\ncolor = \"red\"\n";
        let value = Value::Object(parse(Format::Toml, FILE, text).unwrap());
        let e = decode::<Conf>(value)
            .unwrap_err()
            .in_file(Format::Toml, FILE, text);
        assert_eq!(e.field.as_deref(), Some("labels[0].color"), "{e:?}");
        assert_eq!(e.line, Some(5), "{e:?}");
    }
}
