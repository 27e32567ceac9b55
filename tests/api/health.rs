use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "ok");
}

#[tokio::test]
async fn healthz_answers_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, 503);
}

#[tokio::test]
async fn a_fresh_install_has_the_main_tenant_and_runs_migrations_twice_safely() {
    let app = TestApp::spawn().await;
    app.db.migrate().await.expect("second migrate is a no-op");
    let mut conn = app.db.acquire().await.unwrap();
    let main = roster::db::tenants::find(&mut conn, "main").await.unwrap();
    assert_eq!(main.map(|t| t.name), Some("Main".to_string()));
}
