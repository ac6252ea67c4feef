//! Acceptance 5: bad settings are clear errors naming the setting, never panics, never the
//! secret.

use atombot::AppConfig;

const EC_KEY: &str = include_str!("fixtures/not-rsa-ec-key.pem");
const RSA_KEY: &str = include_str!("../src/testing/keys/dev-app-private-key.pem");

fn from(vars: &[(&str, &str)]) -> atombot::Result<AppConfig> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    AppConfig::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

fn setting(err: atombot::Error) -> &'static str {
    match err {
        atombot::Error::Config { setting, .. } => setting,
        other => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn an_invalid_key_file_names_its_setting() {
    let dir = std::env::temp_dir().join(format!("atombot-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("key.pem");
    std::fs::write(&file, "this is not a key").unwrap();
    let err = from(&[
        ("ATOMGIT_APP_ID", "75"),
        ("ATOMGIT_PRIVATE_KEY_PATH", file.to_str().unwrap()),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("ATOMGIT_PRIVATE_KEY_PATH"),
        "{err}"
    );
    assert_eq!(setting(err), "ATOMGIT_PRIVATE_KEY_PATH");

    let missing = dir.join("missing.pem");
    let err = from(&[
        ("ATOMGIT_APP_ID", "75"),
        ("ATOMGIT_PRIVATE_KEY_PATH", missing.to_str().unwrap()),
    ])
    .unwrap_err();
    assert_eq!(setting(err), "ATOMGIT_PRIVATE_KEY_PATH");
}

#[test]
fn a_key_of_the_wrong_pem_type_is_refused() {
    let err = from(&[("ATOMGIT_APP_ID", "75"), ("ATOMGIT_PRIVATE_KEY", EC_KEY)]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ATOMGIT_PRIVATE_KEY") && text.contains("RSA"),
        "{text}"
    );
    assert!(
        !text.contains(&EC_KEY[40..70]),
        "the key leaked into the error: {text}"
    );
    let public = include_str!("../src/testing/keys/dev-app-public-key.pem");
    assert_eq!(
        setting(from(&[("ATOMGIT_APP_ID", "75"), ("ATOMGIT_PRIVATE_KEY", public)]).unwrap_err()),
        "ATOMGIT_PRIVATE_KEY"
    );
}

#[test]
fn a_missing_or_non_numeric_app_id_is_refused() {
    assert_eq!(
        setting(from(&[("ATOMGIT_PRIVATE_KEY", RSA_KEY)]).unwrap_err()),
        "ATOMGIT_APP_ID"
    );
    let err = from(&[
        ("ATOMGIT_APP_ID", "my-app"),
        ("ATOMGIT_PRIVATE_KEY", RSA_KEY),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("ATOMGIT_APP_ID"), "{err}");
    assert!(from(&[("ATOMGIT_APP_ID", "75"), ("ATOMGIT_PRIVATE_KEY", RSA_KEY)]).is_ok());
}

#[test]
fn a_missing_key_names_both_ways_to_give_it() {
    let err = from(&[("ATOMGIT_APP_ID", "75")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ATOMGIT_PRIVATE_KEY_PATH") && text.contains("ATOMGIT_PRIVATE_KEY "),
        "{text}"
    );
}

#[test]
fn a_bad_api_url_names_its_setting() {
    let err = from(&[
        ("ATOMGIT_APP_ID", "75"),
        ("ATOMGIT_PRIVATE_KEY", RSA_KEY),
        ("ATOMGIT_API_URL", "not a url"),
    ])
    .unwrap_err();
    assert_eq!(setting(err), "ATOMGIT_API_URL");
}
