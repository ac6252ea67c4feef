//! The endpoint table renders, families never double a prefix, settings override.

use super::*;

#[test]
fn segments_are_encoded_and_paths_keep_slashes() {
    let p = ApiPaths::default();
    assert_eq!(
        p.render(&REPOS_GET, "/", &[("owner", "a b"), ("repo", "c/d")])
            .unwrap(),
        "/repos/a%20b/c%2Fd"
    );
    let raw = p
        .render(
            &REPOS_RAW,
            "/",
            &[("owner", "o"), ("repo", "r"), ("path", "src/a b.rs")],
        )
        .unwrap();
    assert_eq!(raw, "/api/v5/repos/o/r/raw/src/a%20b.rs");
}

#[test]
fn families_never_double_the_prefix() {
    let p = ApiPaths::default().family(Family::V5);
    let params = [("owner", "o"), ("repo", "r")];
    assert_eq!(
        p.render(&REPOS_GET, "/", &params).unwrap(),
        "/api/v5/repos/o/r"
    );
    assert_eq!(
        p.render(&REPOS_GET, "/api/v5/", &params).unwrap(),
        "/repos/o/r"
    );
    let p = p.group_family(Group::Repos, Family::V2023);
    assert_eq!(p.render(&REPOS_GET, "/", &params).unwrap(), "/repos/o/r");
}

#[test]
fn settings_override_paths_and_families() {
    let env = |k: &str| match k {
        "ATOMBOT_API_FAMILY_ISSUES" => Some("v5".to_owned()),
        "ATOMBOT_API_PATH_PULLS_MERGE" => Some("/x/{owner}/{repo}/{number}".to_owned()),
        _ => None,
    };
    let p = ApiPaths::from_lookup(env).unwrap();
    assert_eq!(p.family_of(&ISSUES_GET), Family::V5);
    assert_eq!(p.family_of(&PULLS_GET), Family::V2023);
    let merge = p
        .render(
            &PULLS_MERGE,
            "/",
            &[("owner", "o"), ("repo", "r"), ("number", "3")],
        )
        .unwrap();
    assert_eq!(merge, "/x/o/r/3");
    assert_eq!(PULLS_MERGE.setting(), "ATOMBOT_API_PATH_PULLS_MERGE");
    assert_eq!(crate::settings::API_PATH.instance(""), PATH_ENV_PREFIX);
    assert!(
        ALL.iter()
            .all(|e| crate::settings::API_PATH.matches(&e.setting()))
    );

    let bad = ApiPaths::from_lookup(|k| (k == "ATOMBOT_API_FAMILY").then(|| "v9".to_owned()));
    assert!(matches!(bad, Err(Error::Config { .. })));
    let bad = ApiPaths::from_lookup(|k| {
        (k == "ATOMBOT_API_PATH_ISSUES_GET").then(|| "repos/x".to_owned())
    });
    assert!(matches!(bad, Err(Error::Config { .. })));
}

#[test]
fn every_endpoint_renders_and_names_a_source() {
    let p = ApiPaths::default();
    let params: Vec<(&str, &str)> = [
        "owner",
        "repo",
        "number",
        "id",
        "org",
        "username",
        "path",
        "sha",
        "name",
        "tag",
        "branch",
        "installation",
    ]
    .iter()
    .map(|k| (*k, "x"))
    .collect();
    let mut names = std::collections::BTreeSet::new();
    for e in ALL {
        assert!(names.insert(e.name), "duplicate {}", e.name);
        for family in [Family::V2023, Family::V5] {
            let rendered = ApiPaths::default()
                .family(family)
                .render(e, "/", &params)
                .unwrap();
            assert!(
                rendered.starts_with('/') && !rendered.contains('{'),
                "{rendered}"
            );
        }
        assert!(p.render(e, "/", &params).is_ok());
        if let Source::Doc(url) = e.source {
            assert!(url.starts_with("http"), "{}", e.name);
        }
    }
}
