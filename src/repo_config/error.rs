//! [`ConfigFileError`]: a configuration file that does not parse or does not fit its type.

use std::fmt;

/// A repository's configuration file is invalid: it is not valid YAML/TOML, it is not a
/// mapping, its `_extends` is malformed, or a value does not fit the author's type.
///
/// Names the file (`owner/repo:.atomgit/name.yml`), the line and column (1-based) when
/// known, and the field (`labels[0].color`) for a wrong type. Retrying will not fix it: a
/// handler failing with it is failed at once (see [`Retry`](crate::Retry)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigFileError {
    /// `owner/repo:path` of the file at fault.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field at fault (`labels[0].color`), for a value of the wrong type.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ConfigFileError {
    pub(crate) fn new(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, position: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = position {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration file {}", self.file)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, " at line {line}, column {column}")?,
            (Some(line), None) => write!(f, " at line {line}")?,
            _ => {}
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}
