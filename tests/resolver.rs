//! Installation resolution by owner: one listing for many concurrent misses, no lock held
//! across it (a caller cancelled mid-listing harms nobody), failures reported to every waiter.

use std::time::Duration;

use atombot::App;
use atombot::runtime::InstallationResolver;
use atombot::testing::{Fault, Route, Simulator};

#[tokio::test]
async fn concurrent_misses_share_one_listing_and_survive_a_cancelled_caller() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(
        Route::get("/app/installations"),
        1,
        Fault::Delay(Duration::from_millis(800)),
    );
    let app = App::new(sim.app_config()).unwrap();
    let resolver = std::sync::Arc::new(InstallationResolver::new(app.client().clone()));
    // The first caller gives up (is dropped) while the listing is in flight.
    let first = tokio::time::timeout(
        Duration::from_millis(100),
        resolver.by_owner("atomgit-demo"),
    );
    assert!(first.await.is_err());
    let lookups = (0..10).map(|i| {
        let resolver = resolver.clone();
        let owner = if i % 2 == 0 {
            "atomgit-demo"
        } else {
            "nobody-here"
        };
        async move { resolver.by_owner(owner).await.unwrap().map(|id| id.0) }
    });
    let found = futures::future::join_all(lookups).await;
    for (i, id) in found.iter().enumerate() {
        assert_eq!(*id, if i % 2 == 0 { Some(14) } else { None }, "{found:?}");
    }
    assert_eq!(
        sim.requests_to("/app/installations").len(),
        1,
        "one listing"
    );
}

#[tokio::test]
async fn a_failed_listing_is_an_error_for_every_waiter() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(Route::get("/app/installations"), 10, Fault::Status(500));
    let app = App::new(sim.app_config()).unwrap();
    let client = atombot::Client::builder()
        .app(sim.app_config())
        .retry_policy(atombot::client::layers::DefaultRetryPolicy::default().max_attempts(1))
        .build()
        .unwrap();
    drop(app);
    let resolver = InstallationResolver::new(client);
    let (a, b) = tokio::join!(
        resolver.by_owner("atomgit-demo"),
        resolver.by_owner("other")
    );
    for result in [a, b] {
        let error = result.unwrap_err();
        assert!(
            matches!(error, atombot::Error::Installations { .. }),
            "{error}"
        );
    }
    // A failure does not count as a refresh: the next miss lists again.
    sim.clear_faults();
    assert_eq!(
        resolver
            .by_owner("atomgit-demo")
            .await
            .unwrap()
            .map(|i| i.0),
        Some(14)
    );
}
