//! Pages under parallel load, as production serves them (one multi-threaded runtime): every
//! render answers. (Several apps rendering on separate runtimes in one process — the test
//! harness's shape, never production's — can leave a Leptos render waiting forever, so the
//! integration tests run one at a time: see `scripts/test`.)

use std::sync::Arc;
use std::time::Duration;

use crate::helpers::TestApp;

/// Renders `path` `n` times at once (as `cookie`), each bounded; returns how many answered 200.
async fn parallel_renders(app: &Arc<TestApp>, path: &str, cookie: &str, n: usize) -> usize {
    let mut renders = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (app, path, cookie) = (app.clone(), path.to_string(), cookie.to_string());
        renders.spawn(async move {
            tokio::time::timeout(Duration::from_secs(20), app.get_unbounded(&path, &cookie))
                .await
                .ok()
        });
    }
    renders
        .join_all()
        .await
        .into_iter()
        .filter(|status| status.is_some_and(|s| s.as_u16() == 200))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_renders_of_each_page_all_answer() {
    let (app, cookie) = TestApp::with_admin().await;
    let app = Arc::new(app);
    let user = app.plain_user("pat", "pat's password", Some("main")).await;
    let integration = app.integration("main").await;
    let group = app
        .scim(
            &integration,
            "POST",
            "/Groups",
            Some(serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Engineering",
                "members": [{"value": user}],
            })),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group = group.json()["id"].as_str().unwrap().to_string();
    for path in [
        "/t/main/iam/users".to_string(),
        format!("/t/main/iam/users/{user}"),
        "/t/main/iam/groups".to_string(),
        format!("/t/main/iam/groups/{group}"),
        "/t/main/iam/audit".to_string(),
        "/t/main/iam/bindings".to_string(),
        "/t/main/iam/roles".to_string(),
        "/t/main/iam/service-accounts".to_string(),
        "/t/main/iam/scim".to_string(),
        format!("/t/main/iam/scim/{}", integration.id),
        "/instance/tenants".to_string(),
        "/account".to_string(),
        "/instance/sign-ins".to_string(),
    ] {
        let path = path.as_str();
        let answered = parallel_renders(&app, path, &cookie, 40).await;
        assert_eq!(
            answered,
            40,
            "{path}: {} of 40 renders never answered",
            40 - answered
        );
    }
}
