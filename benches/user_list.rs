//! The Users list at 100,000 users on SQLite: the first page, a page deep into the list, the
//! previous-page query, searches (frequent and never matching) and the "of N users" count.
//! Keyset paging must keep every page as cheap as the first.
//! Run with `cargo bench --features ssr --bench user_list`.

// Benchmarks may unwrap, expect and panic (Cargo.toml denies them in the crate itself).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use roster::db::directory::{self, Cursor};
use roster::db::Db;

const USERS: usize = 100_000;
const PAGE: i64 = 50;

async fn seeded(dir: &std::path::Path) -> Db {
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let mut tx = db.begin().await.expect("begin");
    roster::db::tenants::insert(&mut tx, "main", "Main", 0)
        .await
        .expect("tenant");
    roster::db::tenants::insert(&mut tx, "other", "Other", 0)
        .await
        .expect("tenant");
    for n in 0..USERS {
        let id = format!("id-{n:06}");
        let name = format!("user{n:06}");
        sqlx::query(
            "INSERT INTO users (id, username, username_lower, email, email_lower, display_name, \
             display_name_lower, is_superadmin, active, created_at, updated_at) \
             VALUES ($1, $2, $2, $3, $3, $4, $5, 0, 1, 0, 0)",
        )
        .bind(&id)
        .bind(&name)
        .bind(format!("{name}@example.com"))
        .bind(format!("Person {n}"))
        .bind(format!("person {n}"))
        .execute(&mut *tx)
        .await
        .expect("user");
        sqlx::query("INSERT INTO user_emails (user_id, value_lower, kind) VALUES ($1, $2, 'work')")
            .bind(&id)
            .bind(format!("{name}@work.example"))
            .execute(&mut *tx)
            .await
            .expect("email");
        // Nine in ten in `main`, the rest elsewhere: the list must skip users of other tenants.
        let tenant = if n % 10 == 9 { "other" } else { "main" };
        roster::db::access::grant(&mut tx, tenant, &id, "manual", None, 0)
            .await
            .expect("access");
    }
    tx.commit().await.expect("commit");
    db
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = rt.block_on(seeded(dir.path()));
    let mut group = c.benchmark_group("users_list_100k");
    group.sample_size(20);
    let cases: Vec<(&str, Option<&str>, Cursor)> = vec![
        ("first_page", None, Cursor::First),
        ("deep_page", None, Cursor::After("user070000".into())),
        ("previous_page", None, Cursor::Before("user070000".into())),
        ("search_frequent", Some("99"), Cursor::First),
        ("search_email", Some("user04321"), Cursor::First),
        ("search_no_match", Some("nobody-has-this"), Cursor::First),
    ];
    let users = rt.block_on(async {
        let mut conn = db.acquire().await.expect("conn");
        directory::count_users(&mut conn, "main")
            .await
            .expect("count")
    });
    for (name, q, cursor) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut conn = db.acquire().await.expect("conn");
                    black_box(
                        directory::users_page(&mut conn, "main", users, q, &cursor, PAGE)
                            .await
                            .expect("page"),
                    )
                })
            })
        });
    }
    group.bench_function("count", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut conn = db.acquire().await.expect("conn");
                black_box(
                    directory::count_users(&mut conn, "main")
                        .await
                        .expect("count"),
                )
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
