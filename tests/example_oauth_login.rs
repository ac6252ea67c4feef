//! The oauth-login example's bot on `TestBot`: sign in through the simulator's authorize
//! page, then `/` lists the user's repositories with their `atu_` token.

#[path = "../examples/oauth-login.rs"]
#[allow(dead_code)]
mod oauth_login;

use atombot::AppConfig;
use atombot::oauth::{MemoryUserTokenStore, OAuth};
use atombot::testing::{Simulator, TestBot};
use axum::body::Body;
use http::{Request, Response, header};

async fn text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

/// The `name=value` pairs of the cookies the response sets (not those it clears).
fn cookie(response: &Response<Body>) -> String {
    let cookies: Vec<&str> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|c| !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap())
        .collect();
    assert!(
        !cookies.is_empty(),
        "no cookie set: {:?}",
        response.headers()
    );
    cookies.join("; ")
}

#[tokio::test]
async fn signing_in_lists_the_users_repositories() {
    let sim = Simulator::start().await.unwrap();
    sim.add_user_repo("octo-user", "dotfiles");
    let mut env = sim.env();
    env.push((
        atombot::config::env::PUBLIC_URL,
        "http://bot.test".to_owned(),
    ));
    let config =
        AppConfig::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let oauth = OAuth::builder(&config)
        .store(MemoryUserTokenStore::new())
        .build()
        .unwrap();
    let bot = TestBot::start_with(oauth_login::bot(config, oauth), sim)
        .await
        .unwrap();

    let home = text(bot.request(get("/", None)).await).await;
    assert!(home.contains("Sign in with AtomGit"), "{home}");

    // /login → the platform's authorize page, which approves at once → /oauth/callback.
    let login = bot.request(get("/login", None)).await;
    assert!(login.status().is_redirection(), "{}", login.status());
    let state_cookie = cookie(&login);
    let authorize = login.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(authorize.starts_with(&bot.sim().web_url()), "{authorize}");
    let approved = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&authorize)
        .send()
        .await
        .unwrap();
    let callback = approved.headers()["location"].to_str().unwrap();
    let callback = callback
        .strip_prefix("http://bot.test")
        .unwrap_or_else(|| panic!("redirect_uri from the public URL: {callback}"));
    assert!(callback.starts_with("/oauth/callback?"), "{callback}");

    let signed_in = bot.request(get(callback, Some(&state_cookie))).await;
    assert!(
        signed_in.status().is_redirection(),
        "{}",
        signed_in.status()
    );
    let session = cookie(&signed_in);
    let page = text(bot.request(get("/", Some(&session))).await).await;
    assert!(page.contains("Repositories of octo-user"), "{page}");
    assert!(page.contains("octo-user/dotfiles"), "{page}");
    bot.shutdown().await;
}
