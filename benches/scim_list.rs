//! SCIM `GET /Users` pages at 100,000 users on SQLite, at the storage layer: the first page, a
//! page deep into the list (offset 90,000), the same page as a paging walk's continuation (a
//! seek after the previous page's last row, its total already known) with and without each user's
//! group references (listed compactly in the page's own statement), and a `userName eq`
//! lookup. A page must not sort or read every user of the tenant. `group_refs/ten_into_json`:
//! one user's ten references from that listing into the answer's JSON.
//! `member_refs/100k_into_json`: a group of 100,000 members from the ids the database lists into
//! the answer's JSON (what a `GET` of an "everyone" group writes); `member_refs/100k_values_into_json`
//! the same with only each member's `value` (`attributes=members.value`).
//! `stored_text/default_view`: one user's answer in the default view, written from a stored
//! profile as authentik sends it; `stored_text/write_view`: the same answer from the view kept
//! with that profile (what every page, lookup and PUT writes per user since views are kept).
//! Run with `cargo bench --features ssr --bench scim_list`.

// Benchmarks may unwrap, expect and panic (Cargo.toml denies them in the crate itself).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use roster::db::group_refs::{GroupRefs, RefPrefix};
use roster::db::member_refs::{self, MemberFields};
use roster::db::scim_users::{self, Page, ProfileText};
use roster::db::Db;
use roster::scim::resource::SortOrder;
use roster::scim::Filter;

const USERS: usize = 100_000;
const SOURCE: &str = "bench-integration";
const BASE: &str = "https://roster.example/api/v1/main/integrations/bench-integration/scim/v2";

async fn seeded(dir: &std::path::Path) -> Db {
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let mut tx = db.begin().await.expect("begin");
    roster::db::tenants::insert(&mut tx, "main", "Main", 0)
        .await
        .expect("tenant");
    for n in 0..USERS {
        let id = format!("id-{n:06}");
        let name = format!("user{n:06}");
        sqlx::query(
            "INSERT INTO users (id, username, username_lower, email, email_lower, display_name, \
             display_name_lower, is_superadmin, active, created_at, updated_at, scim_json, \
             created_by, version) VALUES ($1, $2, $2, $3, $3, $4, $5, 0, 1, $6, $6, $7, $8, 1)",
        )
        .bind(&id)
        .bind(&name)
        .bind(format!("{name}@example.com"))
        .bind(format!("Person {n}"))
        .bind(format!("person {n}"))
        .bind(n as i64)
        .bind(format!(
            r#"{{"name":{{"givenName":"Given{n}","familyName":"Family{n}"}},"displayName":"Person {n}","emails":[{{"value":"{name}@example.com","type":"work","primary":true}}],"title":"Engineer"}}"#
        ))
        .bind(SOURCE)
        .execute(&mut *tx)
        .await
        .expect("user");
        roster::db::access::grant(&mut tx, "main", &id, SOURCE, Some(&name), 0)
            .await
            .expect("access");
    }
    // 1,000 groups of 100 members: every user is in one.
    for g in 0..USERS / 100 {
        let gid = format!("group-{g:05}");
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, display_name, display_name_lower, version, \
             created_at, updated_at) VALUES ($1, 'main', $1, $1, 1, $2, $2)",
        )
        .bind(&gid)
        .bind(g as i64)
        .execute(&mut *tx)
        .await
        .expect("group");
        let ids: Vec<String> = (g * 100..g * 100 + 100)
            .map(|n| format!("id-{n:06}"))
            .collect();
        roster::db::groups::add_members(&mut tx, &gid, &ids, 0)
            .await
            .expect("members")
            .expect("every user can be a member");
    }
    tx.commit().await.expect("commit");
    db
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = rt.block_on(seeded(dir.path()));
    let mut group = c.benchmark_group("scim_users_list_100k");
    group.sample_size(20);
    let lookup = Filter::parse("userName eq \"user054321\"").expect("filter");
    let previous = scim_users::After {
        created_at: 89_999,
        id: "id-089999".into(),
    };
    // (name, filter, offset, continued after a previous page's last row, with group references)
    type Case<'a> = (
        &'a str,
        Option<&'a Filter>,
        i64,
        Option<(&'a scim_users::After, i64)>,
        bool,
    );
    let cases: Vec<Case> = vec![
        ("first_page", None, 0, None, true),
        ("deep_page", None, 90_000, None, true),
        (
            "deep_page_continued",
            None,
            90_000,
            Some((&previous, 0)),
            true,
        ),
        (
            "deep_page_continued_without_groups",
            None,
            90_000,
            Some((&previous, 0)),
            false,
        ),
        ("username_eq", Some(&lookup), 0, None, true),
    ];
    for (name, filter, offset, after, with_groups) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut conn = db.acquire().await.expect("conn");
                    let page = Page {
                        filter,
                        sort_by: None,
                        sort_order: SortOrder::Ascending,
                        offset,
                        limit: 100,
                        after,
                        with_group_refs: with_groups,
                        profile: ProfileText::ViewOrJson,
                    };
                    let listed = scim_users::list(&mut conn, "main", SOURCE, &page).await;
                    black_box(listed.map(|(n, rows)| (n, rows.len())).ok())
                })
            })
        });
    }
    group.finish();
}

/// A user's ten group references as the page's statement lists them, into the answer's JSON.
fn group_refs(c: &mut Criterion) {
    let listed: Vec<String> = (0..10)
        .map(|i| {
            format!(
                "\"0193a2c4-7d1e-7000-8000-{i:012}\"\"Engineering team {}\"",
                10 - i
            )
        })
        .collect();
    let listed = listed.join(",");
    let prefix = RefPrefix::new(BASE);
    let mut out = String::new();
    c.bench_function("group_refs/ten_into_json", |b| {
        b.iter(|| {
            out.clear();
            GroupRefs::parse(black_box(&listed)).write_json(&prefix, &mut out);
            black_box(out.len())
        })
    });
}

/// A group of 100,000 members: the ids as the database lists them, into the answer's JSON.
fn member_refs(c: &mut Criterion) {
    let ids: Vec<String> = (0..USERS)
        .map(|i| format!("\"0193a2c4-7d1e-7000-8000-{i:012}\""))
        .collect();
    let ids = ids.join(",");
    let prefix = RefPrefix::of_users(BASE);
    let mut out = String::new();
    let values = MemberFields {
        value: true,
        reference: false,
        kind: false,
    };
    for (name, fields) in [
        ("member_refs/100k_into_json", MemberFields::ALL),
        ("member_refs/100k_values_into_json", values),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                member_refs::write_json(black_box(&ids), &prefix, fields, &mut out);
                black_box(out.len())
            })
        });
    }
}

/// A user's default view written from their stored profile (authentik's user as stored).
fn default_view(c: &mut Criterion) {
    let stored = serde_json::json!({
        "name": {"givenName": "Ann", "familyName": "O'Neil", "formatted": "Ann O'Neil"},
        "displayName": "Ann O'Neil",
        "emails": [{"value": "ann@example.com", "type": "work", "primary": true}],
        "title": "Staff engineer",
        "locale": "en-US",
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    })
    .to_string();
    let rt = roster::scim::registry().user();
    let meta = r#"{"created":"2026-11-30T10:00:00Z","lastModified":"2026-11-30T10:00:00Z","location":"https://roster.example/Users/u","resourceType":"User","version":"W/\"1-1\""}"#;
    let set = [
        ("id", Some(r#""0193a2c4-7d1e-7000-8000-000000000001""#)),
        ("userName", Some(r#""ann@example.com""#)),
        ("externalId", Some(r#""ak-1""#)),
        ("active", None),
        ("groups", Some("[]")),
        ("meta", Some(meta)),
    ];
    c.bench_function("stored_text/default_view", |b| {
        b.iter(|| {
            let text = roster::scim::stored_text::default_view(rt, Some(black_box(&stored)), &set);
            black_box(text.map(|t| t.len()))
        })
    });
    let server = roster::db::profile_views::SERVER_ATTRIBUTES;
    let kept = roster::scim::stored_text::view_members(rt, Some(&stored), &server).unwrap();
    let mut sorted_set = set;
    sorted_set.sort_by_key(|(name, _)| *name);
    c.bench_function("stored_text/write_view", |b| {
        b.iter(|| {
            let text =
                roster::scim::stored_text::write_view(rt, black_box(kept.as_str()), &sorted_set);
            black_box(text.map(|t| t.len()))
        })
    });
}

criterion_group!(benches, bench, group_refs, member_refs, default_view);
criterion_main!(benches);
