//! Finding commands in a comment: `/name args…` or `@bot name args…` at the start of a line,
//! outside code blocks and quoted replies.

/// One command found in a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The command's name, lowercased (`label` for `/Label`).
    pub name: String,
    /// Its arguments, split as a shell would: `"needs review"` is one argument.
    pub args: Vec<String>,
    /// The line of the comment it was on, from 1.
    pub line: usize,
}

/// The commands in `body`, in order, each distinct invocation once. `mentions` are the names
/// the bot answers to after `@` (compared without case; a trailing `:` or `,` is ignored).
///
/// Ignored: lines inside fenced code blocks (```` ``` ```` or `~~~`), indented code (a tab or
/// four spaces), quoted replies (`> /label`), and words after `/` that are not command names
/// (`/usr/bin`).
pub fn parse(body: &str, mentions: &[String]) -> Vec<Invocation> {
    let mut found: Vec<Invocation> = Vec::new();
    let mut fence: Option<&str> = None;
    for (index, raw) in body.lines().enumerate() {
        let trimmed = raw.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some("```");
            continue;
        }
        if trimmed.starts_with("~~~") {
            fence = Some("~~~");
            continue;
        }
        if raw.starts_with('\t') || raw.starts_with("    ") || trimmed.starts_with('>') {
            continue;
        }
        let Some((name, rest)) = command_at(trimmed.trim_end(), mentions) else {
            continue;
        };
        let invocation = Invocation {
            name: name.to_ascii_lowercase(),
            args: split_args(rest),
            line: index + 1,
        };
        if !found
            .iter()
            .any(|f| f.name == invocation.name && f.args == invocation.args)
        {
            found.push(invocation);
        }
    }
    found
}

/// The command name and the rest of the line, if `line` starts with a command.
fn command_at<'a>(line: &'a str, mentions: &[String]) -> Option<(&'a str, &'a str)> {
    if let Some(after) = line.strip_prefix('/') {
        return name_and_rest(after);
    }
    let after = line.strip_prefix('@')?;
    let (who, rest) = after.split_once(char::is_whitespace)?;
    let who = who.trim_end_matches([':', ',']);
    if !mentions.iter().any(|m| m.eq_ignore_ascii_case(who)) {
        return None;
    }
    let rest = rest.trim_start();
    name_and_rest(rest.strip_prefix('/').unwrap_or(rest))
}

fn name_and_rest(text: &str) -> Option<(&str, &str)> {
    let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then_some((name, rest.trim()))
}

/// Shell-like splitting; an unbalanced quote falls back to splitting at whitespace.
fn split_args(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        return Vec::new();
    }
    shlex::split(rest).unwrap_or_else(|| rest.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<(String, Vec<String>)> {
        parse(body, &["atombot".to_owned(), "atombot[bot]".to_owned()])
            .into_iter()
            .map(|i| (i.name, i.args))
            .collect()
    }

    fn cmd(name: &str, args: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            args.iter().map(|a| (*a).to_owned()).collect(),
        )
    }

    #[test]
    fn slash_commands_at_line_start_with_quoted_arguments() {
        assert_eq!(
            names("/label bug \"needs review\"\nthanks!\n  /assign @alice"),
            vec![
                cmd("label", &["bug", "needs review"]),
                cmd("assign", &["@alice"])
            ]
        );
        assert_eq!(names("/Help"), vec![cmd("help", &[])]);
    }

    #[test]
    fn mentions_name_the_bot() {
        assert_eq!(
            names("@atombot label bug\n@AtomBot: /close\n@someone label x"),
            vec![cmd("label", &["bug"]), cmd("close", &[])]
        );
    }

    #[test]
    fn code_quotes_and_mid_line_commands_are_ignored() {
        let body = "> /label quoted\nsee /label inline\n```\n/label fenced\n```\n    /label indented\n~~~\n/x\n~~~\n/usr/bin/env\n/label real";
        assert_eq!(names(body), vec![cmd("label", &["real"])]);
    }

    #[test]
    fn the_same_invocation_twice_runs_once_and_bad_quotes_still_split() {
        assert_eq!(
            names("/label bug\n/label bug\n/label \"open"),
            vec![cmd("label", &["bug"]), cmd("label", &["\"open"])]
        );
    }
}
