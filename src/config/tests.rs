use super::*;

const KEY: &str = include_str!("../testing/keys/dev-app-private-key.pem");

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn setting_of(err: Error) -> &'static str {
    match err {
        Error::Config { setting, .. } => setting,
        other => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn missing_app_id_names_the_setting() {
    let err = AppConfig::from_lookup(vars(&[(env::PRIVATE_KEY, KEY)])).unwrap_err();
    assert_eq!(setting_of(err), env::APP_ID);
}

#[test]
fn non_numeric_app_id_names_the_setting() {
    let err = AppConfig::from_lookup(vars(&[(env::APP_ID, "seventy"), (env::PRIVATE_KEY, KEY)]))
        .unwrap_err();
    assert!(err.to_string().contains("ATOMGIT_APP_ID"), "{err}");
    assert!(err.to_string().contains("not a number"), "{err}");
}

#[test]
fn unreadable_key_file_names_the_setting() {
    let err = AppConfig::from_lookup(vars(&[
        (env::APP_ID, "75"),
        (env::PRIVATE_KEY_PATH, "/nonexistent/key.pem"),
    ]))
    .unwrap_err();
    assert_eq!(setting_of(err), env::PRIVATE_KEY_PATH);
}

#[test]
fn garbage_key_text_is_refused_without_echoing_it() {
    let err = AppConfig::from_lookup(vars(&[
        (env::APP_ID, "75"),
        (env::PRIVATE_KEY, "super-secret-not-a-pem"),
    ]))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(env::PRIVATE_KEY), "{text}");
    assert!(!text.contains("super-secret"), "{text}");
}

#[test]
fn base_urls_keep_their_path_prefix() {
    let cfg = AppConfig::from_lookup(vars(&[
        (env::APP_ID, "75"),
        (env::PRIVATE_KEY, KEY),
        (env::API_URL, "https://test-api.atomgit.com/api/v5"),
    ]))
    .unwrap();
    assert_eq!(
        cfg.api_url().as_str(),
        "https://test-api.atomgit.com/api/v5/"
    );
    assert_eq!(cfg.web_url().as_str(), "https://atomgit.com/");
    assert_eq!(cfg.app_id(), 75);
}

#[test]
fn path_settings_and_bot_login_come_from_the_environment() {
    use super::paths::{Family, ISSUES_GET, PULLS_MERGE};
    let cfg = AppConfig::from_lookup(vars(&[
        (env::APP_ID, "75"),
        (env::PRIVATE_KEY, KEY),
        (env::BOT_LOGIN, "helper"),
        ("ATOMBOT_API_FAMILY_ISSUES", "v5"),
        ("ATOMBOT_API_PATH_PULLS_MERGE", "/x/{owner}/{repo}/{number}"),
    ]))
    .unwrap();
    assert_eq!(cfg.bot_login(), Some("helper"));
    assert_eq!(cfg.api_paths().family_of(&ISSUES_GET), Family::V5);
    assert!(cfg.api_paths().is_overridden(&PULLS_MERGE));
    let err = AppConfig::from_lookup(vars(&[
        (env::APP_ID, "75"),
        (env::PRIVATE_KEY, KEY),
        ("ATOMBOT_API_FAMILY", "v7"),
    ]))
    .unwrap_err();
    assert_eq!(setting_of(err), "ATOMBOT_API_FAMILY");
}

#[test]
fn the_public_url_comes_from_its_setting_or_the_old_callback_setting() {
    let cfg = |pairs: &[(&str, &str)]| {
        let mut all = vec![(env::APP_ID, "75"), (env::PRIVATE_KEY, KEY)];
        all.extend_from_slice(pairs);
        AppConfig::from_lookup(vars(&all))
    };
    let public = |pairs: &[(&str, &str)]| {
        cfg(pairs)
            .unwrap()
            .public_url()
            .map(|u| u.as_str().to_owned())
    };
    assert_eq!(public(&[]), None);
    assert_eq!(
        public(&[(env::PUBLIC_URL, "https://bot.example/app")]).as_deref(),
        Some("https://bot.example/app/")
    );
    assert_eq!(
        public(&[(LEGACY_REDIRECT_URL, "https://bot.example/x/oauth/callback")]).as_deref(),
        Some("https://bot.example/x/")
    );
    assert_eq!(
        public(&[(LEGACY_REDIRECT_URL, "https://bot.example/cb")]).as_deref(),
        Some("https://bot.example/")
    );
    assert_eq!(
        public(&[
            (env::PUBLIC_URL, "http://127.0.0.1:3000"),
            (LEGACY_REDIRECT_URL, "https://bot.example/oauth/callback"),
        ])
        .as_deref(),
        Some("http://127.0.0.1:3000/")
    );
    let err = cfg(&[(env::PUBLIC_URL, "ftp://bot.example")]).unwrap_err();
    assert_eq!(setting_of(err), env::PUBLIC_URL);
    let err = cfg(&[(LEGACY_REDIRECT_URL, "not a url")]).unwrap_err();
    assert_eq!(setting_of(err), LEGACY_REDIRECT_URL);
}

#[test]
fn debug_shows_no_secret() {
    let cfg = AppConfig::builder()
        .app_id(75)
        .private_key_pem(KEY)
        .webhook_secret("whsec-very-secret")
        .client_secret("client-very-secret")
        .build()
        .unwrap();
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("very-secret"), "{dbg}");
    assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
    assert!(!dbg.contains(&KEY[40..80]), "{dbg}");
}
