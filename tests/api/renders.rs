//! Pages under parallel load: every render answers (a render that waits forever would hang a
//! browser tab in production and a test run here).

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
        "/instance/tenants".to_string(),
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

/// Like the test harness (and unlike production): several apps, each on its own thread and
/// current-thread runtime, rendering at the same time.
#[test]
fn apps_on_separate_runtimes_render_side_by_side() {
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let (app, cookie) = TestApp::with_admin().await;
                    let user = app.plain_user("pat", "pat's password", Some("main")).await;
                    let mut answered = 0;
                    for _ in 0..25 {
                        // A form post (a server function answering with a redirect) between renders.
                        app.post_form(
                            "/api/users/grant",
                            &[("tenant", "main"), ("login", "nobody")],
                            Some(&cookie),
                        )
                        .await;
                        for path in [
                            format!("/t/main/iam/users/{user}"),
                            "/t/main/iam/groups".into(),
                        ] {
                            let status = tokio::time::timeout(
                                Duration::from_secs(20),
                                app.get_unbounded(&path, &cookie),
                            )
                            .await;
                            if matches!(status, Ok(s) if s.as_u16() == 200) {
                                answered += 1;
                            } else {
                                eprintln!("{path}: {status:?}");
                            }
                        }
                    }
                    answered
                })
            })
        })
        .collect();
    let answered: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(answered, vec![50; 4]);
}
