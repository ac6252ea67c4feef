//! Finds the line of a field in a configuration file's text, for errors about a value that
//! was parsed fine but does not fit the author's type. Best effort: block-style YAML and
//! TOML tables and keys; for anything else (flow style, inline tables) the deepest part of
//! the path found, or nothing.

use super::parse::Format;

/// One step of a field's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// 1-based line and column of the field at `path` in `text`.
pub(crate) fn locate(format: Format, text: &str, path: &[Segment]) -> Option<(usize, usize)> {
    match format {
        Format::Yaml => locate_yaml(text, path),
        Format::Toml => locate_toml(text, path),
    }
}

/// A line's indentation and the column its content starts at after any `- ` markers.
fn shape(line: &str) -> (usize, usize) {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let mut content = indent;
    let mut rest = &line[indent..];
    while let Some(after) = rest
        .strip_prefix("- ")
        .or_else(|| rest.strip_prefix('-').filter(|r| r.is_empty()))
    {
        let spaces = after.len() - after.trim_start_matches(' ').len();
        content += rest.len() - after.len() + spaces;
        rest = &after[spaces..];
    }
    (indent, content)
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn yaml_key_at(line: &str, column: usize, key: &str) -> bool {
    let rest = &line[column.min(line.len())..];
    [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ]
    .iter()
    .any(|k| rest.starts_with(k.as_str()))
}

fn locate_yaml(text: &str, path: &[Segment]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    // The block being searched: from line `start`, content deeper than `parent`.
    let (mut start, mut parent): (usize, Option<usize>) = (0, None);
    // Whether line `start` is a list item's line, whose first key follows the dash.
    let mut on_item_line = false;
    let mut found = None;
    for segment in path {
        let deeper = |col: usize| parent.is_none_or(|p| col > p);
        let mut hit = None;
        let mut items = 0;
        let mut item_indent = None;
        for (i, line) in lines.iter().enumerate().skip(start) {
            if is_blank(line) {
                continue;
            }
            let (indent, content) = shape(line);
            let item_line = i == start && on_item_line;
            if !item_line && !deeper(indent) {
                break;
            }
            match segment {
                Segment::Key(key) => {
                    if deeper(content) && yaml_key_at(line, content, key) {
                        hit = Some((i, content));
                        break;
                    }
                }
                Segment::Index(index) => {
                    let dash = line[indent..].starts_with('-');
                    if dash && deeper(indent) && item_indent.is_none_or(|d| d == indent) {
                        item_indent = Some(indent);
                        if items == *index {
                            hit = Some((i, indent));
                            break;
                        }
                        items += 1;
                    }
                }
            }
        }
        let Some((line, col)) = hit else { break };
        found = Some((line + 1, col + 1));
        match segment {
            // The value is on this line (nothing can nest under it) or in the block below.
            Segment::Key(_) => {
                start = line + 1;
                on_item_line = false;
                if line_has_inline_value(lines[line], col) {
                    start = lines.len();
                }
            }
            // The item's first key shares the dash's line.
            Segment::Index(_) => {
                start = line;
                on_item_line = true;
            }
        }
        parent = Some(col);
    }
    found
}

/// Whether `key: value` has its value on the same line (so nested keys cannot follow).
fn line_has_inline_value(line: &str, col: usize) -> bool {
    line[col..]
        .split_once(':')
        .is_some_and(|(_, v)| !v.trim().is_empty() && !v.trim().starts_with('#'))
}

fn locate_toml(text: &str, path: &[Segment]) -> Option<(usize, usize)> {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    let mut table: Vec<String> = Vec::new();
    let mut best: Option<(usize, (usize, usize))> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let column = line.len() - trimmed.len() + 1;
        let full: Vec<String> = if let Some(header) = trimmed.strip_prefix('[') {
            let header = header.trim_start_matches('[');
            let name = header.split(']').next().unwrap_or_default();
            table = split_dotted(name);
            table.clone()
        } else if let Some((key, _)) = trimmed.split_once('=') {
            table.iter().cloned().chain(split_dotted(key)).collect()
        } else {
            continue;
        };
        let matched = full.iter().zip(&keys).take_while(|(a, b)| a == *b).count();
        if matched == full.len() && matched > best.map_or(0, |b| b.0) {
            best = Some((matched, (i + 1, column)));
            if matched == keys.len() {
                break;
            }
        }
    }
    best.map(|b| b.1)
}

fn split_dotted(key: &str) -> Vec<String> {
    key.split('.')
        .map(|k| k.trim().trim_matches('"').trim_matches('\'').to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &str) -> Vec<Segment> {
        path.split('.')
            .map(|s| match s.parse() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Key(s.to_owned()),
            })
            .collect()
    }

    #[test]
    fn yaml_keys_and_items() {
        let text = "a: 1\nb:\n  c: 2\n  d:\n    - x: 1\n      y: 2\n    - x: 3\n      y: 4\ne: 5\n";
        assert_eq!(locate(Format::Yaml, text, &keys("a")), Some((1, 1)));
        assert_eq!(locate(Format::Yaml, text, &keys("b.c")), Some((3, 3)));
        assert_eq!(locate(Format::Yaml, text, &keys("b.d.0.y")), Some((6, 7)));
        assert_eq!(locate(Format::Yaml, text, &keys("b.d.1.x")), Some((7, 7)));
        assert_eq!(locate(Format::Yaml, text, &keys("b.d.1.y")), Some((8, 7)));
        assert_eq!(locate(Format::Yaml, text, &keys("e")), Some((9, 1)));
        // `c` is not under `e`: the deepest part found.
        assert_eq!(locate(Format::Yaml, text, &keys("e.c")), Some((9, 1)));
        assert_eq!(locate(Format::Yaml, text, &keys("a.c")), Some((1, 1)));
        assert_eq!(locate(Format::Yaml, text, &keys("zz")), None);
    }

    #[test]
    fn toml_tables_and_keys() {
        let text = "a = 1\n[b]\nc = 2\n[b.d]\nx = 1\n\n[[e]]\nname = \"n\"\n";
        assert_eq!(locate(Format::Toml, text, &keys("a")), Some((1, 1)));
        assert_eq!(locate(Format::Toml, text, &keys("b.c")), Some((3, 1)));
        assert_eq!(locate(Format::Toml, text, &keys("b.d.x")), Some((5, 1)));
        assert_eq!(locate(Format::Toml, text, &keys("e.0.name")), Some((8, 1)));
        assert_eq!(locate(Format::Toml, text, &keys("b.zz")), Some((2, 1)));
    }
}
