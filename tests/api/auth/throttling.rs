//! Throttling per app and per tenant, with `Retry-After`.

use std::time::Duration;

use remote_action_audits::auth::GrantKind;
use remote_action_audits::auth::permissions::CONFIGURATION_READ_WRITE;

use super::{AUDITS, TestApp, graph_error, spawn_app_with};

/// Three requests per app per three seconds: one more every second.
async fn spawn_throttled() -> TestApp {
    spawn_app_with(|settings| {
        let throttle = &mut settings.auth.throttle;
        throttle.window = Duration::from_secs(3);
        throttle.app_requests = 3;
        throttle.app_writes = 2;
    })
    .await
}

#[tokio::test]
async fn a_burst_past_the_limit_waits_and_others_go_on() {
    let app = spawn_throttled().await;
    let noisy = app.token_for(&[CONFIGURATION_READ_WRITE], GrantKind::Application, "noisy");
    let quiet = app.token_for(&[CONFIGURATION_READ_WRITE], GrantKind::Application, "quiet");
    for _ in 0..3 {
        assert_eq!(app.list_with(&noisy).await.status(), 200);
    }

    let refused = graph_error(app.list_with(&noisy).await).await;
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (429, "TooManyRequests")
    );
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry_after), "{retry_after}");

    // Meanwhile another app of the same tenant is served.
    assert_eq!(app.list_with(&quiet).await.status(), 200);

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(app.list_with(&noisy).await.status(), 200);
}

#[tokio::test]
async fn writes_have_their_own_lower_limit() {
    let app = spawn_throttled().await;
    let token = app.token(&[CONFIGURATION_READ_WRITE]);
    let create = || {
        app.anonymous
            .post(app.url(AUDITS))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(r#"{"action":"remoteLock"}"#)
            .send()
    };
    for _ in 0..2 {
        assert_eq!(create().await.unwrap().status(), 201);
    }

    let refused = create().await.unwrap();

    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(app.list_with(&token).await.status(), 200);
}

#[tokio::test]
async fn disabled_throttling_lets_bursts_through() {
    let app = spawn_app_with(|settings| {
        settings.auth.throttle.enabled = false;
        settings.auth.throttle.app_requests = 1;
    })
    .await;
    let token = app.token(&[CONFIGURATION_READ_WRITE]);

    for _ in 0..5 {
        assert_eq!(app.list_with(&token).await.status(), 200);
    }
}
