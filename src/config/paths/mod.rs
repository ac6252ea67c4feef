//! Every OpenAPI path atombot calls, in one table ([`ALL`]), each with its source, and the
//! settings that override them without a rebuild ([`ApiPaths`]).
//!
//! Paths are relative to the API base URL. An [`Endpoint`] has a template in each
//! [`Family`] (`/repos/{owner}/{repo}/issues/{number}`): the unprefixed version-2023-02-21
//! family, and the `/api/v5` family that the docs site's current API section describes.
//! Which family an endpoint uses defaults to what `openapi.md` found working for it, and can
//! be set per group (`ATOMBOT_API_FAMILY_ISSUES=v5`) or for all (`ATOMBOT_API_FAMILY=v5`).
//! The `/api/v5` prefix is added only when the base URL (`ATOMGIT_API_URL`) does not end
//! in it already. A template can be replaced outright with `ATOMBOT_API_PATH_<NAME>` (the
//! endpoint's [`name`](Endpoint::name) in upper snake case, e.g.
//! `ATOMBOT_API_PATH_ISSUES_UPDATE=/repos/{owner}/{repo}/issues/{number}`); an override is
//! used as given, with no family prefix.
//!
//! Each endpoint says where its path comes from ([`Source`]): `[doc]` a platform
//! documentation page, `[3p]` public third-party code that calls the API, or `guess` where
//! `openapi.md` says "not found". A 404 on a `guess` path is reported with the setting to
//! override it.

mod table;

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::{Error, Result};
use crate::settings;

#[doc(inline)]
pub use table::*;

/// Characters escaped inside one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Like [`SEGMENT`] but keeps `/`: for `{*path}` parameters (file paths).
const MULTI_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The prefix of the `/api/v5` family.
pub const V5_PREFIX: &str = "/api/v5";
/// Environment variable prefix of per-endpoint path overrides ([`settings::API_PATH`]).
pub const PATH_ENV_PREFIX: &str = "ATOMBOT_API_PATH_";
/// Environment variable choosing the family of every endpoint ([`settings::API_FAMILY`]).
pub const FAMILY_ENV: &str = settings::API_FAMILY.name;

/// Where an endpoint's path comes from (see `openapi.md` of the platform notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `[doc]`: a platform documentation page (its URL).
    Doc(&'static str),
    /// `[3p]`: public third-party code that calls the API (the project).
    ThirdParty(&'static str),
    /// `guess`: no public source found; the GitHub-style path.
    Guess,
}

impl Source {
    /// Whether no public source confirms the path.
    pub fn is_guess(&self) -> bool {
        matches!(self, Source::Guess)
    }
}

/// A path family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// The unprefixed version-2023-02-21 paths (`/repos/...`).
    V2023,
    /// The `/api/v5/...` paths.
    V5,
}

impl Family {
    /// Parses `v5`, `api/v5`, `/api/v5`, or `2023-02-21`, `2023`, `v2023`, `unprefixed`.
    pub fn parse(text: &str) -> Option<Self> {
        match text
            .trim()
            .trim_start_matches('/')
            .to_ascii_lowercase()
            .as_str()
        {
            "v5" | "api/v5" => Some(Family::V5),
            "2023-02-21" | "2023" | "v2023" | "unprefixed" | "default" => Some(Family::V2023),
            _ => None,
        }
    }
}

/// Endpoint groups, each settable to a family with `ATOMBOT_API_FAMILY_<GROUP>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Group {
    /// `/app/installations*`.
    Apps,
    /// Repository lists, one repository, branches, tags, contents, files, collaborators.
    Repos,
    /// Issues, their labels, assignees and comments.
    Issues,
    /// Pull requests, their files, commits, reviews, comments and merges.
    Pulls,
    /// Organisation members.
    Orgs,
    /// Releases.
    Releases,
    /// Commit statuses.
    Statuses,
    /// Check runs.
    Checks,
}

impl Group {
    /// Every group.
    pub const ALL: [Group; 8] = [
        Group::Apps,
        Group::Repos,
        Group::Issues,
        Group::Pulls,
        Group::Orgs,
        Group::Releases,
        Group::Statuses,
        Group::Checks,
    ];

    /// The group's name in settings (`ISSUES` in `ATOMBOT_API_FAMILY_ISSUES`).
    pub fn setting_name(self) -> &'static str {
        match self {
            Group::Apps => "APPS",
            Group::Repos => "REPOS",
            Group::Issues => "ISSUES",
            Group::Pulls => "PULLS",
            Group::Orgs => "ORGS",
            Group::Releases => "RELEASES",
            Group::Statuses => "STATUSES",
            Group::Checks => "CHECKS",
        }
    }
}

/// One API operation: its name, method, templates per family, default family and source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// Dotted name (`issues.update`); the override setting is `ATOMBOT_API_PATH_ISSUES_UPDATE`.
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// The group whose family setting applies.
    pub group: Group,
    /// Template in the unprefixed family.
    pub v2023: &'static str,
    /// Template in the `/api/v5` family (without the prefix).
    pub v5: &'static str,
    /// The family used when no setting says otherwise.
    pub default_family: Family,
    /// Where the path of the default family comes from.
    pub source: Source,
    /// Whether the platform may lack the capability (a 404 is then
    /// [`Error::Unsupported`]).
    pub optional: bool,
}

impl Endpoint {
    /// The override setting's name: `ATOMBOT_API_PATH_` + the name in upper snake case.
    pub fn setting(&self) -> String {
        settings::API_PATH.instance(&self.name.to_ascii_uppercase().replace(['.', '-'], "_"))
    }
}

/// Path settings: families per group and per-endpoint template overrides.
///
/// The default uses each endpoint's default family and template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiPaths {
    all: Option<Family>,
    groups: BTreeMap<Group, Family>,
    overrides: BTreeMap<&'static str, String>,
}

impl ApiPaths {
    /// Reads `ATOMBOT_API_FAMILY`, `ATOMBOT_API_FAMILY_<GROUP>` and `ATOMBOT_API_PATH_<NAME>`
    /// through `lookup`.
    ///
    /// Fails with [`Error::Config`] naming the setting for an unknown family or an override
    /// that does not start with `/`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut paths = ApiPaths::default();
        if let Some(v) = settings::API_FAMILY.read(&lookup) {
            paths.all = Some(parse_family(FAMILY_ENV, &v)?);
        }
        for group in Group::ALL {
            let setting = settings::API_FAMILY_GROUP.instance(group.setting_name());
            if let Some(v) = get(&setting) {
                let family = Family::parse(&v).ok_or_else(|| {
                    Error::config(
                        FAMILY_ENV,
                        format!("{setting}={v:?} is not `v5` or `2023-02-21`"),
                    )
                })?;
                paths.groups.insert(group, family);
            }
        }
        for endpoint in table::ALL {
            if let Some(v) = get(&endpoint.setting()) {
                if !v.trim().starts_with('/') {
                    return Err(Error::config(
                        PATH_ENV_PREFIX,
                        format!("{} must be a path starting with `/`", endpoint.setting()),
                    ));
                }
                paths.overrides.insert(endpoint.name, v.trim().to_owned());
            }
        }
        Ok(paths)
    }

    /// Uses `family` for every endpoint but the app's own (group settings still win).
    pub fn family(mut self, family: Family) -> Self {
        self.all = Some(family);
        self
    }

    /// Uses `family` for every endpoint of `group`.
    pub fn group_family(mut self, group: Group, family: Family) -> Self {
        self.groups.insert(group, family);
        self
    }

    /// Replaces the template of `endpoint` (used as given, no family prefix).
    pub fn override_path(mut self, endpoint: &Endpoint, template: impl Into<String>) -> Self {
        self.overrides.insert(endpoint.name, template.into());
        self
    }

    /// The family `endpoint` uses: its group's setting, else the setting for all (which
    /// leaves [`Group::Apps`] alone: the `/api/v5` directory has no Apps module), else the
    /// endpoint's default.
    pub fn family_of(&self, endpoint: &Endpoint) -> Family {
        let all = self.all.filter(|_| endpoint.group != Group::Apps);
        self.groups
            .get(&endpoint.group)
            .copied()
            .or(all)
            .unwrap_or(endpoint.default_family)
    }

    /// Whether `endpoint`'s template was overridden.
    pub fn is_overridden(&self, endpoint: &Endpoint) -> bool {
        self.overrides.contains_key(endpoint.name)
    }

    /// The request path of `endpoint` with `params` filled in (each percent-encoded; a
    /// `{*name}` placeholder keeps `/`), prefixed with `/api/v5` for that family unless
    /// `base_path` (the API base URL's path) already ends in it.
    ///
    /// Fails with [`Error::InvalidRequest`] when a placeholder has no value.
    pub fn render(
        &self,
        endpoint: &Endpoint,
        base_path: &str,
        params: &[(&str, &str)],
    ) -> Result<String> {
        let (template, prefix) = match self.overrides.get(endpoint.name) {
            Some(t) => (t.as_str(), ""),
            None => match self.family_of(endpoint) {
                Family::V2023 => (endpoint.v2023, ""),
                Family::V5 => {
                    let base = base_path.trim_end_matches('/');
                    let prefix = if base.ends_with(V5_PREFIX) {
                        ""
                    } else {
                        V5_PREFIX
                    };
                    (endpoint.v5, prefix)
                }
            },
        };
        let mut out = String::from(prefix);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map(|c| open + c).ok_or_else(|| {
                Error::InvalidRequest(format!("unclosed placeholder in {template:?}"))
            })?;
            let name = &rest[open + 1..close];
            let (name, set) = match name.strip_prefix('*') {
                Some(n) => (n, MULTI_SEGMENT),
                None => (name, SEGMENT),
            };
            let value = params
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    Error::InvalidRequest(format!(
                        "{}: no value for {{{name}}} in {template:?}",
                        endpoint.name
                    ))
                })?;
            out.push_str(&utf8_percent_encode(value.trim_start_matches('/'), set).to_string());
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn parse_family(setting: &'static str, value: &str) -> Result<Family> {
    Family::parse(value)
        .ok_or_else(|| Error::config(setting, format!("{value:?} is not `v5` or `2023-02-21`")))
}

#[cfg(test)]
mod tests;
